#!/bin/bash
# What wrk's summary hides: how many of its connections were served at all. wrk reports
# latency only for requests that completed, and a connection stuck behind a php-fpm child that
# another connection holds (keep-conn) completes nothing, so it is neither in p99 nor, if its
# request never got a byte, always in "timeouts". This runs wrk and, near the end of the run,
# reads each client connection's received bytes from the kernel (ss -ti).
#
# Usage: bench/fairness.sh http://127.0.0.1:PORT/index.php [connections=32] [seconds=6]
# Prints: req/s, timeouts, p50, p99, then "clients served: N of C" and the bytes the least and
# the most served connection received.
set -u
URL=$1; CONNS=${2:-32}; SECS=${3:-6}
PORT=$(echo "$URL" | sed -E 's#^[a-z]+://[^:/]+:([0-9]+).*#\1#')
OUT=$(mktemp); SS=$(mktemp); trap 'rm -f "$OUT" "$SS"' EXIT
wrk -t2 -c"$CONNS" -d"$SECS"s --latency "$URL" > "$OUT" 2>&1 &
WRK=$!
sleep "$(awk -v s="$SECS" 'BEGIN { print s * 0.8 }')"
# client side of each connection: its peer is the server's port
ss -tin state established "( dport = :$PORT )" > "$SS"
wait $WRK
served=$(grep -oE 'bytes_received:[0-9]+' "$SS" | wc -l)
counts=$(grep -oE 'bytes_received:[0-9]+' "$SS" | cut -d: -f2 | sort -n)
printf 'req/s %s  timeouts %s  p50 %s  p99 %s\n' \
  "$(awk '/Requests\/sec/ {print int($2)}' "$OUT")" \
  "$(grep -oE 'timeout [0-9]+' "$OUT" | awk '{print $2}' | grep . || echo 0)" \
  "$(awk '$1=="50%" {print $2}' "$OUT")" "$(awk '$1=="99%" {print $2}' "$OUT")"
printf 'clients served: %s of %s (bytes received by the least / most served: %s / %s)\n' \
  "$served" "$CONNS" "$( [ "$served" -lt "$CONNS" ] && echo 0 || echo "$counts" | head -1)" "$(echo "$counts" | tail -1)"
