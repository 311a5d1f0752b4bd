#!/bin/bash
# Same-run A/B of two builds: another checkout (A, e.g. `git worktree add /tmp/a <rev>` with
# this project's node_modules linked in) against this one (B). Both gateways run at once, each
# in front of its own php-fpm (8 static children, hello world), and wrk alternates between them
# in short windows, so a machine that slows down for a while slows both alike. Prints each
# window's req/s and the gateway's CPU per request (user + system, all its threads, from
# /proc), then the medians.
#
# Usage (from the project root): bench/ab.sh CHECKOUT_A [threads=1] [rounds=8] [seconds=3]
#   FLAGS_A / FLAGS_B: extra `serve` flags for one side, e.g. FLAGS_B='--access-log off' with
#   CHECKOUT_A = . to measure a setting rather than a build.
# Needs: apt-get install -y php-fpm wrk
set -u
A=$(cd "$1" && pwd); B=$(pwd); THREADS=${2:-1}; ROUNDS=${3:-8}; SECS=${4:-3}
PATH=/usr/sbin:$PATH
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk"; exit 2; }
FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -1); [ -n "$FPM" ] || { echo "missing php-fpm"; exit 2; }
NODE="$B/node_modules/.bin/node"
T=$(mktemp -d); chmod 755 "$T"; PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done; for f in "$T"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; sleep 0.5; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 1 150); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
mkdir -p "$T/www"; printf '<?php\nheader("Content-Type: text/plain");\necho "hello from php-fpm\\n";\n' > "$T/www/index.php"; chmod -R a+rX "$T/www"
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A HTTP PID
for side in A B; do
  FP=$(port)
  printf '[global]\npid = %s\nerror_log = %s\ndaemonize = yes\n[www]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:%s\nlisten.backlog = 511\npm = static\npm.max_children = 8\n' \
    "$T/fpm-$side.pid" "$T/fpm-$side.log" "$FP" > "$T/fpm-$side.conf"
  "$FPM" -y "$T/fpm-$side.conf" -R && waitp "$FP" || { echo "php-fpm failed"; exit 1; }
  dir=$A; flags=${FLAGS_A:-}; [ "$side" = B ] && dir=$B && flags=${FLAGS_B:-}
  HTTP[$side]=$(port)
  (cd "$dir" && exec "$NODE" bin/fcgi-pool.js serve --backend "127.0.0.1:$FP" --docroot "$T/www" --threads "$THREADS" \
    --max-connections 8 --http "127.0.0.1:${HTTP[$side]}" --grpc "127.0.0.1:$(port)" --admin "127.0.0.1:$(port)" $flags) > "$T/pool-$side.log" 2>&1 &
  PID[$side]=$!; PIDS+=("$!")
  waitp "${HTTP[$side]}" || { echo "gateway $side did not start:"; tail -5 "$T/pool-$side.log"; exit 1; }
  wrk -t2 -c32 -d2s "http://127.0.0.1:${HTTP[$side]}/index.php" > /dev/null # warm-up
done
echo "A = $A ${FLAGS_A:-}, B = $B ${FLAGS_B:-}; $THREADS thread(s); $ROUNDS rounds of wrk -t2 -c32 -d${SECS}s, alternating"
for r in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    c0=$(cpu "${PID[$side]}")
    out=$(wrk -t2 -c32 -d"$SECS"s "http://127.0.0.1:${HTTP[$side]}/index.php")
    c1=$(cpu "${PID[$side]}")
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "$side $(echo "$out" | awk '/Requests\/sec/ {print int($2)}') $(awk -v d=$((c1 - c0)) -v n="$n" -v t="$tick" 'BEGIN {printf "%.1f", d / t / n * 1e6}')"
  done
done | tee "$T/windows" | awk '{printf "%s: %s req/s, %s us/req   ", $1, $2, $3} $1 == "B" {print ""}'
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for side in A B; do
  echo "$side median: $(awk -v s=$side '$1 == s {print $2}' "$T/windows" | median) req/s, $(awk -v s=$side '$1 == s {print $3}' "$T/windows" | median) us of gateway CPU per request"
done
