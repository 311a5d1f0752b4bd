#!/bin/bash
# The measurement issue 4 asks for, in one run: php-fpm with 8 static children and a hello-world
# script; HAProxy 2.6 (fcgi-app, option keep-conn, http-reuse always, nbthread 2), then
# fcgi-pool with 1 and with 2 worker threads, each under `wrk -t2 -c32 -d10s --latency`.
# Each line also says how many of wrk's connections were served at all (bench/fairness.sh):
# wrk's latency figures only count requests that completed. A second HAProxy line gives its
# server `maxconn` = children, the configuration that serves every client as fcgi-pool does.
#
# Usage (from the project root): bench/vs-haproxy.sh [children=8] [connections=32] [seconds=10]
# Needs: apt-get install -y php-fpm haproxy wrk
set -u
CHILDREN=${1:-8}; CONNS=${2:-32}; SECS=${3:-10}
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
echo "php-fpm $CHILDREN static children; wrk -t2 -c$CONNS -d${SECS}s --latency /index.php"

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
haproxy -D -f "$T/haproxy.cfg" -p "$T/haproxy.pid" && waitp "$HP" || { echo "haproxy did not start"; exit 1; }
echo "haproxy 2.6:          $("$FAIR" "http://127.0.0.1:$HP/index.php" "$CONNS" "$SECS" | tr '\n' ' ')"
kill "$(cat "$T/haproxy.pid")"; rm -f "$T/haproxy.pid"
sleep 6 # php-fpm's children let go of HAProxy's kept connections

# The same HAProxy with the server's maxconn at the children: it queues requests, as fcgi-pool's
# cap does, instead of parking connections in php-fpm's backlog, so every client is served.
sed -i "s/proto fcgi\$/proto fcgi maxconn $CHILDREN/" "$T/haproxy.cfg"
haproxy -D -f "$T/haproxy.cfg" -p "$T/haproxy.pid" && waitp "$HP" || { echo "haproxy did not start"; exit 1; }
echo "haproxy, maxconn $CHILDREN:    $("$FAIR" "http://127.0.0.1:$HP/index.php" "$CONNS" "$SECS" | tr '\n' ' ')"
kill "$(cat "$T/haproxy.pid")"; rm -f "$T/haproxy.pid"
sleep 6

# setsid: its own session, as HAProxy's -D and bench-peers.sh give theirs; with the kernel's
# autogroup scheduling a gateway left in this script's session would share wrk's CPU share.
for threads in 1 2; do
  PP=$(port); GP=$(port); AP=$(port)
  setsid ./node_modules/.bin/node bin/fcgi-pool.js serve --backend "127.0.0.1:$FP" --docroot "$T/www" --threads "$threads" \
    --max-connections "$CHILDREN" --http "127.0.0.1:$PP" --grpc "127.0.0.1:$GP" --admin "127.0.0.1:$AP" > "$T/pool.log" 2>&1 &
  POOL=$!
  waitp "$PP" || { echo "fcgi-pool did not start:"; tail -5 "$T/pool.log"; exit 1; }
  echo "fcgi-pool, $threads thread(s): $("$FAIR" "http://127.0.0.1:$PP/index.php" "$CONNS" "$SECS" | tr '\n' ' ')"
  kill "$POOL"; wait "$POOL" 2>/dev/null; POOL=
done
