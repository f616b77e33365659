#!/usr/bin/env bash
# make bench: runs the benchmarks and prints their figures (recorded in docs/BENCHMARKS.md).
set -euo pipefail
build=${1:-build}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
# One core: pin to CPU 0 when taskset is there.
if command -v taskset >/dev/null; then pin="taskset -c 0"; else pin=""; fi
$pin "$build/bin/bench_verify" "${BENCH_SECONDS:-1}"
$pin "$build/bin/bench_raft" "${BENCH_SECONDS:-1}"
$pin "$build/bin/bench_state" "${BENCH_SECONDS:-1}"
# The network benchmarks (tcn devnet vs etcd, minutes, needs etcd): make bench-network,
# or BENCH_NETWORK=1 here.
if [ "${BENCH_NETWORK:-0}" = 1 ]; then
    "$(dirname "$0")/../bench/writes.sh" "$build" "${BENCH_SECONDS:-5}"
    "$(dirname "$0")/../bench/failover.sh" "$build" "${BENCH_REPS:-20}"
fi
