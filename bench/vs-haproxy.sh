#!/bin/bash
# The measurement issue 4 asks for, in one run: php-fpm with 8 static children and a hello-world
# script; HAProxy 2.6 (fcgi-app, option keep-conn, http-reuse always, nbthread 2), then
# fcgi-pool with 1 and with 2 worker threads, each under `wrk -t2 -c32 -d10s --latency`.
# The fronts take turns for ROUNDS rounds and the medians close the run: this VM's speed drifts
# by a third over minutes, so a single pass compares one front's fast spell with another's slow.
# Each line also says how many of wrk's connections were served at all (bench/fairness.sh):
# wrk's latency figures only count requests that completed. A second HAProxy line gives its
# server `maxconn` = children, the configuration that serves every client as fcgi-pool does.
# Two more lines: fcgi-pool without its access log (HAProxy here logs nothing), and
# bench/node-floor.ts, the least a Node proxy does per request: what Node itself costs.
#
# Usage (from the project root): bench/vs-haproxy.sh [children=8] [connections=32] [seconds=10] [rounds=3]
# Needs: apt-get install -y php-fpm haproxy wrk
set -u
CHILDREN=${1:-8}; CONNS=${2:-32}; SECS=${3:-10}; ROUNDS=${4:-3}
PATH=/usr/sbin:$PATH
for b in wrk haproxy python3; do command -v "$b" >/dev/null || { echo "missing $b: apt-get install -y php-fpm haproxy wrk"; exit 2; }; done
FPM=$(ls /usr/sbin/php-fpm* 2>/dev/null | head -1); [ -n "$FPM" ] || { echo "missing php-fpm"; exit 2; }
T=$(mktemp -d); chmod 755 "$T"
cleanup() { for f in "$T"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; [ -n "${POOL:-}" ] && kill "$POOL" 2>/dev/null; sleep 0.5; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitp() { for _ in $(seq 1 150); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
mkdir -p "$T/www"; printf '<?php\nheader("Content-Type: text/plain");\necho "hello from php-fpm\\n";\n' > "$T/www/index.php"; chmod -R a+rX "$T/www"
FP=$(port)
cat > "$T/fpm.conf" <<C
[global]
pid = $T/fpm.pid
error_log = $T/fpm.log
daemonize = yes
[www]
user = www-data
group = www-data
listen = 127.0.0.1:$FP
listen.backlog = 511
pm = static
pm.max_children = $CHILDREN
C
"$FPM" -y "$T/fpm.conf" -R && waitp "$FP" || { echo "php-fpm failed"; exit 1; }
FAIR="$(dirname "$0")/fairness.sh"
echo "php-fpm $CHILDREN static children; wrk -t2 -c$CONNS -d${SECS}s --latency /index.php; $ROUNDS rounds"

HP=$(port)
cat > "$T/haproxy.cfg" <<C
global
  nbthread 2
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
fcgi-app php
  docroot $T/www
  index index.php
  option keep-conn
frontend f
  bind 127.0.0.1:$HP
  default_backend b
backend b
  http-reuse always
  use-fcgi-app php
  server fpm 127.0.0.1:$FP proto fcgi
C
# The same HAProxy with the server's maxconn at the children: it queues requests, as fcgi-pool's
# cap does, instead of parking connections in php-fpm's backlog, so every client is served.
sed "s/proto fcgi\$/proto fcgi maxconn $CHILDREN/" "$T/haproxy.cfg" > "$T/haproxy-maxconn.cfg"

measure() { # label port: one wrk run, printed and kept for the summary
  local out; out=$("$FAIR" "http://127.0.0.1:$2/index.php" "$CONNS" "$SECS" | tr '\n' ' ')
  printf '%-38s %s\n' "$1:" "$out"
  printf '%s\t%s\n' "$1" "$out" >> "$T/results"
}
haproxy_run() { # label config
  haproxy -D -f "$2" -p "$T/haproxy.pid" && waitp "$HP" || { echo "haproxy did not start"; exit 1; }
  measure "$1" "$HP"
  kill "$(cat "$T/haproxy.pid")"; rm -f "$T/haproxy.pid"
  sleep 6 # php-fpm's children let go of HAProxy's kept connections
}
# setsid: its own session, as HAProxy's -D and bench-peers.sh give theirs; with the kernel's
# autogroup scheduling a gateway left in this script's session would share wrk's CPU share.
node_run() { # label port log, then node's arguments: started, measured, stopped
  local label=$1 pp=$2 log=$3; shift 3
  setsid ./node_modules/.bin/node "$@" > "$log" 2>&1 &
  POOL=$!
  waitp "$pp" || { echo "$label did not start:"; tail -5 "$log"; exit 1; }
  measure "$label" "$pp"
  kill "$POOL"; wait "$POOL" 2>/dev/null; POOL=
}
pool_run() { # label, then serve flags
  local label=$1; shift
  local pp; pp=$(port)
  node_run "$label" "$pp" "$T/pool.log" bin/fcgi-pool.js serve --backend "127.0.0.1:$FP" --docroot "$T/www" \
    --max-connections "$CHILDREN" --http "127.0.0.1:$pp" --grpc "127.0.0.1:$(port)" --admin "127.0.0.1:$(port)" "$@"
}
floor_run() { # what Node itself costs: a proxy that only makes the same socket calls (node-floor.ts)
  local pp; pp=$(port)
  node_run "node floor (bench/node-floor.ts)" "$pp" "$T/floor.log" bench/node-floor.ts "$pp" "$FP" "$CHILDREN" "$T/www/index.php"
}

for r in $(seq 1 "$ROUNDS"); do
  echo "-- round $r"
  haproxy_run "haproxy 2.6" "$T/haproxy.cfg"
  haproxy_run "haproxy 2.6, server maxconn $CHILDREN" "$T/haproxy-maxconn.cfg"
  pool_run "fcgi-pool, 1 thread" --threads 1
  pool_run "fcgi-pool, 2 threads" --threads 2
  # HAProxy above logs nothing; fcgi-pool writes an access line per request by default
  pool_run "fcgi-pool, 1 thread, access log off" --threads 1 --access-log off
  floor_run
done

echo "-- medians of $ROUNDS rounds (timeouts: all rounds; clients served: the fewest in a round)"
awk -F'\t' '
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  function median(list,   a, n, i, j, t) { # insertion sort: mawk has no asort
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((n + 1) / 2)]
  }
  {
    split($2, f, " ")  # req/s N timeouts N p50 X p99 Y clients served: A of B ...
    if (!($1 in rps)) order[++n] = $1
    rps[$1] = rps[$1] " " f[2]; to[$1] += f[4]; p99[$1] = p99[$1] " " ms(f[8])
    if (!($1 in served) || f[11] < served[$1]) served[$1] = f[11]
    of = f[13]
  }
  END {
    for (i = 1; i <= n; i++) { k = order[i]
      printf "%-38s req/s %6d  timeouts %3d  p99 %8.2f ms  clients served %s of %s\n", k ":", median(rps[k]), to[k], median(p99[k]), served[k], of }
  }' "$T/results"
