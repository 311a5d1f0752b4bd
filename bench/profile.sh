#!/bin/bash
# A CPU profile of the gateway under load, per request: starts `fcgi-pool serve` with
# `node --cpu-prof` in front of a running FastCGI backend, runs wrk, stops the service
# (SIGTERM: each thread writes its profile) and prints where each worker thread's time went
# (bench/cpu-profile.ts explains the columns).
#
# Usage (from the project root): bench/profile.sh BACKEND DOCROOT [threads=1] [connections=32] [seconds=6] [path=/index.php]
#   e.g. bench/profile.sh 127.0.0.1:9000 /var/www/html 1 32 6
set -u
BACKEND=$1; DOCROOT=$2; THREADS=${3:-1}; CONNS=${4:-32}; SECS=${5:-6}; URLPATH=${6:-/index.php}
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk"; exit 2; }
NODE=./node_modules/.bin/node
DIR=$(mktemp -d); LOG="$DIR/serve.log"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(port); GP=$(port); AP=$(port)
"$NODE" --cpu-prof --cpu-prof-dir="$DIR" bin/fcgi-pool.js serve --backend "$BACKEND" --docroot "$DOCROOT" \
  --threads "$THREADS" --http "127.0.0.1:$HP" --grpc "127.0.0.1:$GP" --admin "127.0.0.1:$AP" > "$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$HP") 2>/dev/null && break; sleep 0.1; done
# warm up: the profile should show the optimised code, not its compilation
wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$HP$URLPATH" > /dev/null
before=$(curl -s "127.0.0.1:$AP/metrics" | awk '/^fcgipool_thread_requests_total/ {s += $2} END {print s}')
wrk -t2 -c"$CONNS" -d"$SECS"s --latency "http://127.0.0.1:$HP$URLPATH" | grep -E 'Requests/sec|99%|timeout'
after=$(curl -s "127.0.0.1:$AP/metrics" | awk '/^fcgipool_thread_requests_total/ {s += $2} END {print s}')
kill -TERM $PID; wait $PID
# the warm-up is in the profile too: count its requests as well
"$NODE" bench/cpu-profile.ts "$DIR" "$after" ${TOP:-25}
echo "(profiles cover the whole run: $after requests, $((after - before)) in the measured wrk run)"
