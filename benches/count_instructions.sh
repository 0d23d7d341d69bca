#!/usr/bin/env bash
# Instructions `causeway serve` executes per operation, counted by valgrind's callgrind
# while a load benchmark drives it. Unlike CPU time, the count is the same for a binary
# and its input whatever else the machine is doing, so two builds compare in any hour.
# It counts instructions, not their cost: valgrind's CPU has no SHA-NI, ADX or BMI2, so
# ring's P-256 and SHA-256 run their slower paths, and memcpy's `rep movsb` weighs more
# than it costs.
#
#   benches/count_instructions.sh page|login [seconds counted, 20]
#
# page: `portal_page`, per GET answered 200; login: `login_load` at 32 browsers, per
# completed sign-in. Needs valgrind (Debian's package), and wrk for the page. Leaves
# callgrind's profile in target/callgrind/ for callgrind_annotate.
set -euo pipefail
# Say where it stopped: under `set -e` a failing step (callgrind_control before valgrind
# is ready, say) would otherwise end the script without a word.
trap 'echo "$0: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

what=${1:-page}
seconds=${2:-20}
case $what in
    page) bench=portal_page; counter='causeway_http_requests_total{method="GET",status="200"}' ;;
    login) bench=login_load; counter='causeway_sso_logins_total{error_code="",outcome="succeeded"}' ;;
    *) echo "usage: $0 page|login [seconds]" >&2; exit 2 ;;
esac
command -v callgrind_control >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 2; }

out=target/callgrind
mkdir -p "$out"
rm -f "$out"/$what.*
binary=$(cargo bench --quiet --bench $bench --no-run --message-format=json | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
# Instrumentation starts off: start-up, seeding and warm-up are not counted.
export BENCH_SERVER_WRAPPER="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$PWD/$out/$what.%p"
export BENCH_SECONDS=$((seconds + 30)) BENCH_CONCURRENCY=32
"$binary" --bench > "$out/$what.bench.log" 2>&1 &
bench_pid=$!
server=""
# The server is the benchmark's child; a benchmark killed by a signal leaves it running.
trap 'kill $bench_pid $server 2>/dev/null || true' EXIT

for _ in $(seq 120); do
    server=$(pgrep -P $bench_pid -f "causeway serve" | head -1 || true)
    port=""
    [ -n "$server" ] && port=$(ss -ltnpH | grep "pid=$server," | awk '{print $4}' | sed 's/.*://' | head -1)
    [ -n "$port" ] && break
    sleep 1
done
[ -n "$port" ] || { echo "the server did not start under valgrind; see $out/$what.bench.log" >&2; exit 1; }
sleep 15 # past the seeding and the benchmark's warm-up
count() { curl -s "http://127.0.0.1:$port/metrics" | grep -F "$counter" | awk '{print $NF}'; }

callgrind_control --zero "$server" >/dev/null 2>&1
before=$(count)
callgrind_control --instr=on "$server" >/dev/null 2>&1
sleep "$seconds"
callgrind_control --instr=off "$server" >/dev/null 2>&1
after=$(count)
callgrind_control --dump "$server" >/dev/null 2>&1
sleep 1
instructions=$(grep -h '^summary:\|^totals:' "$out"/$what.[0-9]* 2>/dev/null | awk '{s += $2} END {printf "%.0f\n", s}')
operations=$((after - before))
echo "$what: $operations operations counted, $instructions instructions, $((instructions / operations)) per operation"
wait $bench_pid || true
