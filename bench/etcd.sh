#!/usr/bin/env bash
# Helpers for the network benchmarks: a 3-member etcd cluster on 127.0.0.1
# with TLS on the client and the peer URLs (one self-signed certificate made
# with openssl, SAN IP:127.0.0.1, used as its own CA). Sourced by
# bench/writes.sh and bench/failover.sh.
#   etcd_install                         apt-get install etcd-server etcd-client, once
#   etcd_certs DIR                       DIR/etcd.crt, DIR/etcd.key
#   etcd_up DIR DATA_PARENT HB_MS ET_MS  start 3 members; sets ETCD_URLS (comma list),
#                                        ETCD_PAIRS (URL=PID,...), ETCD_PIDS
#   etcd_down                            stop the members this shell started (by pid)
ETCD_PORT_BASE=${ETCD_PORT_BASE:-23790}

etcd_install() {
    if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then return 0; fi
    if [ "$(id -u)" != 0 ]; then echo "etcd.sh: etcd missing and not root: apt-get install etcd-server etcd-client" >&2; return 1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server etcd-client >/dev/null
    # The package enables a system service on 2379/2380; ours use other ports and never touch it.
}

etcd_certs() {
    local d=$1
    [ -f "$d/etcd.crt" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=tcn-bench-etcd -addext "subjectAltName=IP:127.0.0.1" \
        -addext "extendedKeyUsage=serverAuth,clientAuth" -addext "basicConstraints=critical,CA:TRUE" \
        -keyout "$d/etcd.key" -out "$d/etcd.crt" 2>/dev/null
}

ETCD_PIDS=()
ETCD_DATA=()
etcd_up() {
    local d=$1 parent=$2 hb=$3 et=$4
    etcd_certs "$d"
    local cluster="" i
    for i in 1 2 3; do
        cluster+="${cluster:+,}e$i=https://127.0.0.1:$((ETCD_PORT_BASE + 10 * i + 1))"
    done
    ETCD_URLS="" ETCD_PAIRS="" ETCD_PIDS=()
    for i in 1 2 3; do
        local cport=$((ETCD_PORT_BASE + 10 * i)) pport=$((ETCD_PORT_BASE + 10 * i + 1))
        local data; data=$(mktemp -d "$parent/tcn-bench-etcd-e$i.XXXXXX")
        etcd --name "e$i" --data-dir "$data" \
            --listen-client-urls "https://127.0.0.1:$cport" --advertise-client-urls "https://127.0.0.1:$cport" \
            --listen-peer-urls "https://127.0.0.1:$pport" --initial-advertise-peer-urls "https://127.0.0.1:$pport" \
            --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "tcn-bench-$$" \
            --cert-file "$d/etcd.crt" --key-file "$d/etcd.key" \
            --peer-cert-file "$d/etcd.crt" --peer-key-file "$d/etcd.key" --peer-trusted-ca-file "$d/etcd.crt" \
            --peer-client-cert-auth \
            --heartbeat-interval "$hb" --election-timeout "$et" --log-level error \
            >"$d/e$i.log" 2>&1 &
        ETCD_PIDS+=($!)
        ETCD_DATA+=("$data")
        ETCD_URLS+="${ETCD_URLS:+,}https://127.0.0.1:$cport"
        ETCD_PAIRS+="${ETCD_PAIRS:+,}https://127.0.0.1:$cport=$!"
    done
    # Ready when a PUT commits.
    local t
    for t in $(seq 1 100); do
        if curl -sf --cacert "$d/etcd.crt" -X POST "https://127.0.0.1:$((ETCD_PORT_BASE + 10))/v3/kv/put" \
            -d '{"key":"cmVhZHk=","value":"MQ=="}' >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "etcd.sh: the cluster did not come up (logs in $d)" >&2
    return 1
}

etcd_down() {
    local p
    for p in "${ETCD_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${ETCD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    local x
    for x in "${ETCD_DATA[@]}"; do rm -rf "$x"; done
    ETCD_PIDS=() ETCD_DATA=()
}
