#!/usr/bin/env bash
# Traces the scheduler on the server's core while sign-ins share it with
# read saturation: runs `scripts/bench.sh --share` and, during its first
# load of logins among reads, records tracefs's sched_switch events on
# CPU 0 for a few seconds, then prints, per thread name, its share of the
# core, how long it ran each time it had the core, and how long it waited,
# ready to run, each time it was taken off. A diagnostic, not a test: it
# asserts nothing. The README's "Benchmarks" cites what it showed.
#
#   sudo scripts/bench-trace.sh          (PASSWORD_HASH_CPU_SHARE: 0.42)
#
# BENCH_SECONDS (6) and BENCH_ROUNDS (1) as in bench.sh; TRACE_SECONDS (3).
# Needs root (tracefs) and what bench.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BENCH_SECONDS:-6}"
rounds="${BENCH_ROUNDS:-1}"
trace_seconds="${TRACE_SECONDS:-3}"
tracing=/sys/kernel/tracing
if ((EUID != 0)); then
  echo "bench-trace: needs root, to write $tracing" >&2
  exit 1
fi
[[ -e "$tracing/trace" ]] || mount -t tracefs nodev "$tracing"

work="$(mktemp -d)"
trap 'echo 0 >"$tracing/tracing_on"; echo >"$tracing/set_event"; rm -rf "$work"' EXIT
echo 0 >"$tracing/tracing_on"
echo 65536 >"$tracing/buffer_size_kb"
echo sched:sched_switch >"$tracing/set_event"

BENCH_SECONDS="$seconds" BENCH_ROUNDS="$rounds" \
  PASSWORD_HASH_CPU_SHARE="${PASSWORD_HASH_CPU_SHARE:-0.42}" \
  scripts/bench.sh --share >"$work/bench.log" 2>&1 &
bench=$!
until grep -q "during read saturation" "$work/bench.log"; do
  kill -0 "$bench" 2>/dev/null || { cat "$work/bench.log" >&2; exit 1; }
  sleep 0.2
done
# The reads alone (rounds × seconds), then the logins alone (seconds), then
# both: trace from a little into the first load of both.
sleep "$((seconds * rounds + seconds))"
sleep 1.5
echo >"$tracing/trace"
echo 1 >"$tracing/tracing_on"
sleep "$trace_seconds"
echo 0 >"$tracing/tracing_on"
cat "$tracing/per_cpu/cpu0/trace" >"$work/trace"
wait "$bench"
sed -n '/^The hashing share/,$p' "$work/bench.log"
echo
echo "The server's core (CPU 0), ${trace_seconds} s of logins among reads:"
echo
python3 - "$work/trace" <<'PY'
import collections, re, sys

switch = re.compile(
    r"\s(\d+\.\d+): sched_switch: prev_comm=(.+?) prev_pid=(\d+) prev_prio=\d+ "
    r"prev_state=(\S+) ==> next_comm=(.+?) next_pid=(\d+)")
runs = collections.defaultdict(list)   # name -> lengths of its turns on the core
waits = collections.defaultdict(list)  # name -> waits while ready to run
taken_off = {}                         # pid -> when it was taken off, ready
start = first = last = None
for line in open(sys.argv[1]):
    m = switch.search(line)
    if not m:
        continue
    at, name, pid, state, next_name, next_pid = (
        float(m[1]), m[2], m[3], m[4], m[5], m[6])
    first = at if first is None else first
    last = at
    if start is not None:
        runs[name].append(at - start)
    if state.startswith("R"):
        taken_off[pid] = at
    if next_pid in taken_off:
        waits[next_name].append(at - taken_off.pop(next_pid))
    start = at
if first is None or last == first:
    sys.exit("no sched_switch events were recorded")
span = last - first

def ms(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1e3

print("| Thread | share of the core | turns/s | turn p50, p99, max (ms) | wait when ready p50, p99, max (ms) |")
print("|---|---|---|---|---|")
for name, turns in sorted(runs.items(), key=lambda item: -sum(item[1])):
    share = sum(turns) / span
    if share < 0.001:
        continue
    ready = waits.get(name, [0.0])
    print(f"| {name} | {share:.1%} | {len(turns) / span:.0f} | "
          f"{ms(turns, .5):.3f}, {ms(turns, .99):.3f}, {max(turns) * 1e3:.3f} | "
          f"{ms(ready, .5):.3f}, {ms(ready, .99):.3f}, {max(ready) * 1e3:.3f} |")
PY
