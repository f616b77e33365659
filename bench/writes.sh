#!/usr/bin/env bash
# Committed writes per second and p50/p99 latency with 1, 16 and 64 clients:
# tcn (signed payout scheduling over RA-TLS, through the log) and etcd
# (v3 JSON gateway PUTs over TLS, data dir on disk and on tmpfs), the same
# load generator (bench_writes), the same machine, one after the other.
#   bench/writes.sh [BUILD_DIR] [SECONDS]
# Environment: CLIENTS ("1 16 64"), HB / ET (heartbeat / election timeout ms
# for both systems, default 50 / 500 = the devnet's defaults), NODELAY_TOO=1
# (default) also runs tcn with bench/shim/nodelay.c preloaded (TCP_NODELAY on
# every socket: a diagnosis, see docs/BENCHMARKS.md), NEW_CONN=1 (default)
# adds a 16-client tcn run through the client library (a handshake per write),
# RESULTS=FILE appends every JSON line there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
secs=${2:-5}
CLIENTS=${CLIENTS:-"1 16 64"}
HB=${HB:-50}
ET=${ET:-500}
NODELAY_TOO=${NODELAY_TOO:-1}
NEW_CONN=${NEW_CONN:-1}
RESULTS=${RESULTS:-/dev/null}
bw=$build/bin/bench_writes tcn=$build/bin/tcn
source "$here/etcd.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcn-bench-writes.XXXXXX")
devnet=""
cleanup() {
    if [ -n "$devnet" ]; then "$tcn" devnet down --dir "$devnet" >/dev/null 2>&1 || true; fi
    etcd_down
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
# tcn devnet up, once more if it fails (on a loaded machine a start can time out).
devnet_up() { # dir preload args...
    local d=$1 pre=$2; shift 2
    LD_PRELOAD=$pre "$tcn" devnet up --dir "$d" "$@" >/dev/null && return 0
    rm -rf "$d"
    LD_PRELOAD=$pre "$tcn" devnet up --dir "$d" "$@" >/dev/null
}

emit() { echo "$1"; echo "$1" >>"$RESULTS"; }
load() { echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%FT%TZ)"
cc -O2 -shared -fPIC -o "$work/nodelay.so" "$here/shim/nodelay.c" -ldl

# tcn: a fresh devnet per run (the API's replay cache holds 65,536 signatures for 30 s).
tcn_run() { # label preload clients [--new-conn]
    local label=$1 pre=$2 n=$3; shift 3
    devnet=$work/devnet-$label-$n
    devnet_up "$devnet" "$pre" --heartbeat-ms "$HB" --election-timeout-ms "$ET"
    load
    local out
    out=$(BENCH_EXPECT_WPS=${EXPECT:-1500} "$bw" tcn "$devnet" "$n" "$secs" "$@")
    emit "{\"run\":\"tcn-$label\",${out#\{}"
    "$tcn" devnet down --dir "$devnet" >/dev/null
    devnet=""
}
for n in $CLIENTS; do EXPECT=400 tcn_run as-is "" "$n"; done
if [ "$NODELAY_TOO" = 1 ]; then
    for n in $CLIENTS; do tcn_run nodelay "$work/nodelay.so" "$n"; done
fi
if [ "${DIAG:-1}" = 1 ]; then
    # Diagnosis: the same, with the ledger killed once the swaps exist, so every
    # executor step fails at once instead of holding the state lock over its
    # chain RPCs (docs/BENCHMARKS.md, "where the time goes").
    for n in $CLIENTS; do
        devnet=$work/devnet-noexec-$n
        devnet_up "$devnet" "$work/nodelay.so" --heartbeat-ms "$HB" --election-timeout-ms "$ET"
        load
        lpid=$(sed -n '/"ledger"/,/}/s/.*"pid": *\([0-9]*\).*/\1/p' "$devnet/devnet.json" | head -1)
        out=$(BENCH_KILL_BEFORE=$lpid BENCH_EXPECT_WPS=3000 "$bw" tcn "$devnet" "$n" "$secs")
        emit "{\"run\":\"tcn-nodelay-ledger-killed\",${out#\{}"
        "$tcn" devnet down --dir "$devnet" >/dev/null
        devnet=""
    done
fi
if [ "$NEW_CONN" = 1 ]; then
    EXPECT=400 tcn_run as-is-newconn "" 16 --new-conn
    [ "$NODELAY_TOO" = 1 ] && tcn_run nodelay-newconn "$work/nodelay.so" 16 --new-conn
fi

# etcd: data on disk (TMPDIR's file system, or /var/tmp) and on tmpfs (/dev/shm).
etcd_install
disk=${ETCD_DISK_DIR:-/var/tmp}
for where in disk tmpfs; do
    parent=$disk
    [ "$where" = tmpfs ] && parent=/dev/shm
    for n in $CLIENTS; do
        etcd_up "$work" "$parent" "$HB" "$ET"
        load
        out=$("$bw" etcd "$ETCD_URLS" "$n" "$secs" "$work/etcd.crt")
        emit "{\"run\":\"etcd-$where\",${out#\{}"
        etcd_down
    done
done

# The Raft layer alone: the in-process figure (no network-level Raft-only path exists).
taskset -c 0 "$build/bin/bench_raft" 1 2>&1 | sed 's/^/bench_raft: /'
