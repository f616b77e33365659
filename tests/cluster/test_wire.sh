#!/usr/bin/env bash
# No plaintext secrets on the wire (DESIGN §2 "secrets never leave a TEE in
# plaintext"). tcpdump captures the devnet's ports on lo while an operator
# imports a known Ed25519 seed and a known FROST share (`tcn keys import`,
# through a follower: 307, then the leader) and the network replicates them
# to every node over RA-TLS. The capture must not hold either secret in any
# form (raw, hex, base64 at every alignment, base58: pcap.py). Controls that
# the check can fail: the ledger's plaintext JSON-RPC shows a known base58
# pubkey (an airdrop), and three random canaries sent in clear to the
# ledger's port (raw, as hex, as base64) are all found.
# Needs tcpdump able to capture on lo (root or CAP_NET_RAW): otherwise the
# test is SKIPPED (exit 77), loudly, never passed.
. "$(dirname "$0")/lib.sh"
cl_deadline $((120 * SLOW))

command -v tcpdump >/dev/null || { echo "SKIP: test_wire: tcpdump is not installed (scripts/install-deps.sh installs it): NO CHECK OF THE WIRE WAS MADE"; exit 77; }

devnet_up --nodes 3
wait_leader $((10 * SLOW))
follower=$(names | grep -vx "$leader" | head -1)
ports=$(jq -r '.ledger.listen, .nodes[].peer, .nodes[].api' "$dir/devnet.json" | sed 's/.*://' | sort -u)
filter="tcp and ($(sed 's/^/port /' <<<"$ports" | paste -sd' ' | sed 's/ port/ or port/g'))"
say "leader $leader; capturing on lo: $filter"

tcpdump -i lo -U -s 0 -w "$tmp/wire.pcap" "$filter" >"$tmp/tcpdump.out" 2>"$tmp/tcpdump.err" &
tpid=$!; cl_track "$tpid"
for _ in $(seq 1 50); do
  grep -q "listening on" "$tmp/tcpdump.err" && break
  kill -0 "$tpid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "listening on" "$tmp/tcpdump.err"; then
  echo "SKIP: test_wire: tcpdump cannot capture on lo here (not root, no CAP_NET_RAW?): NO CHECK OF THE WIRE WAS MADE"
  sed 's/^/  tcpdump: /' "$tmp/tcpdump.err"
  exit 77
fi

# The secrets: fixed, known values.
seed=$(printf '5eed%.0s' $(seq 1 16))   # 32 bytes: 5e ed 5e ed ...
share=$(printf 'f205%.0s' $(seq 1 16))  # 32 bytes
( umask 077; echo "$seed" >"$tmp/seed.hex"; echo "$share" >"$tmp/share.hex" )
"$tcn" keys import --dir "$dir" --node "$(url "$follower")" --kind ed25519_seed --secret-file "$tmp/seed.hex" --json \
  >"$tmp/k1.json" 2>&1 || { cat "$tmp/k1.json"; die "keys import (seed) failed"; }
"$tcn" keys import --dir "$dir" --node "$(url "$follower")" --kind frost_share --secret-file "$tmp/share.hex" --json \
  >"$tmp/k2.json" 2>&1 || { cat "$tmp/k2.json"; die "keys import (share) failed"; }
k1=$(jq -r .key_id "$tmp/k1.json"); k2=$(jq -r .key_id "$tmp/k2.json")
say "imported: seed as key $k1 ($(jq -r .pubkey "$tmp/k1.json")), share as key $k2"
for n in $(names); do
  wait_for $((10 * SLOW)) "$n holds keys $k1 and $k2" bash -c \
    "curl -sk --max-time 3 $(url "$n")/v1/keys | jq -e '[.keys[].key_id] | index($k1) != null and index($k2) != null'"
  ok "$n holds both keys (replicated)"
done
# Controls: plaintext we expect on loopback.
known=$(newkey known)
airdrop "$known" 1000000
ledger_port=$(jq -r .ledger.listen "$dir/devnet.json" | sed 's/.*://')
c_raw=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
c_hex=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
c_b64=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$c_raw" | xxd -r -p >"$tmp/c_raw.bin"
curl -s --max-time 3 "$ledger" --data-binary @"$tmp/c_raw.bin" >/dev/null
curl -s --max-time 3 "$ledger" -d "{\"canary\":\"$c_hex\"}" >/dev/null
curl -s --max-time 3 "$ledger" -d "{\"canary\":\"x$(printf '%s' "$c_b64" | xxd -r -p | base64 -w0)\"}" >/dev/null
sleep 1
kill -INT "$tpid"; wait "$tpid" 2>/dev/null
say "capture: $(stat -c %s "$tmp/wire.pcap") bytes; $(grep -o "[0-9]* packets captured" "$tmp/tcpdump.err")"

python3 "$here/pcap.py" "$tmp/wire.pcap" --secret seed:"$seed" --secret share:"$share" \
  --plain airdrop-pubkey:"$known" --canary raw:"$c_raw" --canary hex:"$c_hex" --canary base64:"$c_b64" >"$tmp/pcap.out"
rc=$?
sed 's/^/  /' "$tmp/pcap.out"
while read -r line; do
  case $line in ok:*) ok "${line#ok: }" ;; FAIL:*) bad "${line#FAIL: }" ;; esac
done <"$tmp/pcap.out"
expect "pcap.py found nothing wrong" test "$rc" = 0
# The capture saw the key import's traffic: the API port of the follower and the peer ports.
for n in $(names); do
  for kind in api peer; do
    p=$(jq -r --arg n "$n" --arg k "$kind" '.nodes[] | select(.name==$n) | .[$k]' "$dir/devnet.json" | sed 's/.*://')
    expect "the capture holds traffic from $n's $kind port $p" grep -q "[ ,]$p:[0-9]" <(sed 's/^payload bytes by source port://' "$tmp/pcap.out" | tr -d '\n' | sed 's/^/ /')
  done
done
finish
