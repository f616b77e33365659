#!/usr/bin/env bash
# Failover time: kill -9 of the leader -> the first committed write (both
# systems), and -> the next payout landing on the ledger (tcn), REPS times
# per setting, on a fresh 3-member cluster each time; min / median / p99.
#   bench/failover.sh [BUILD_DIR] [REPS]
# Environment: SETTINGS ("100/1000 20/100": heartbeat/election ms, both
# systems), ETCD_EXTRA ("50/250": etcd-only settings, the known reference),
# NODELAY_TOO=1 also runs tcn with bench/shim/nodelay.c preloaded,
# RESULTS=FILE appends every JSON line there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
reps=${2:-20}
SETTINGS=${SETTINGS:-"100/1000 20/100"}
ETCD_EXTRA=${ETCD_EXTRA-"50/250"}
NODELAY_TOO=${NODELAY_TOO:-0}
RESULTS=${RESULTS:-/dev/null}
bw=$build/bin/bench_writes tcn=$build/bin/tcn
source "$here/etcd.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcn-bench-failover.XXXXXX")
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

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%FT%TZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
cc -O2 -shared -fPIC -o "$work/nodelay.so" "$here/shim/nodelay.c" -ldl

# min / median / p99 of the numbers on stdin (p99 of 20 is the largest but one... nearest rank).
summary() {
    sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "n=0"; exit}
        m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; r=int(0.99*NR+0.999); if (r<1) r=1;
        printf "n=%d min=%.0f median=%.0f p99=%.0f max=%.0f\n", NR, v[1], m, v[r], v[NR]}'
}
field() { sed -n "s/.*\"$1\":\([-0-9.]*\).*/\1/p"; }

tcn_setting() { # label preload hb et
    local label=$1 pre=$2 hb=$3 et=$4 f=$work/tcn-$1-$3-$4.jsonl i
    : >"$f"
    for i in $(seq 1 "$reps"); do
        devnet=$work/devnet
        devnet_up "$devnet" "$pre" --heartbeat-ms "$hb" --election-timeout-ms "$et" --replace-after-ms 0
        out=$(LD_PRELOAD= "$bw" tcn-failover "$devnet" || echo '{"error":1}')
        echo "$out" >>"$f"
        echo "{\"run\":\"tcn-$label\",\"heartbeat_ms\":$hb,\"election_ms\":$et,${out#\{}" >>"$RESULTS"
        "$tcn" devnet down --dir "$devnet" >/dev/null
        rm -rf "$devnet"
        devnet=""
    done
    echo "tcn-$label hb=$hb et=$et kill->first commit ms:       $(field commit_ms <"$f" | summary)"
    echo "tcn-$label hb=$hb et=$et kill->next landing ms:       $(field kill_to_next_landing_ms <"$f" | grep -v '^-' | summary)"
    echo "tcn-$label hb=$hb et=$et landing gap across kill ms:  $(field landing_gap_ms <"$f" | grep -v '^-' | summary)"
    echo "tcn-$label hb=$hb et=$et normal landing gap ms:       $(field normal_landing_gap_ms <"$f" | grep -v '^-' | summary)"
}

etcd_setting() { # hb et
    local hb=$1 et=$2 f=$work/etcd-$1-$2.jsonl i
    : >"$f"
    for i in $(seq 1 "$reps"); do
        etcd_up "$work" "${ETCD_DISK_DIR:-/var/tmp}" "$hb" "$et"
        sleep 1 # past the first election's settling
        out=$("$bw" etcd-failover "$ETCD_PAIRS" "$work/etcd.crt" || echo '{"error":1}')
        echo "$out" >>"$f"
        echo "{\"run\":\"etcd\",\"heartbeat_ms\":$hb,\"election_ms\":$et,${out#\{}" >>"$RESULTS"
        etcd_down
    done
    echo "etcd hb=$hb et=$et kill->first commit ms:          $(field commit_ms <"$f" | summary)"
}

etcd_install
for s in $SETTINGS; do
    hb=${s%/*} et=${s#*/}
    tcn_setting as-is "" "$hb" "$et"
    [ "$NODELAY_TOO" = 1 ] && tcn_setting nodelay "$work/nodelay.so" "$hb" "$et"
    etcd_setting "$hb" "$et"
done
for s in $ETCD_EXTRA; do etcd_setting "${s%/*}" "${s#*/}"; done
