#!/usr/bin/env bash
# CLI contract of the API commands (tcn status, verify, keygen, client add,
# swap create|show, payout schedule, keys import|list|policy) against two
# in-test nodes (test_api --serve: a leader and a follower over RA-TLS with
# a sim TEE identity, applying to a real state; killed on exit): --json
# prints exactly one object, exit 0 success / 1 refused or failed / 2 usage,
# pins refused with the RA-TLS reason, secrets never printed. Loopback only.
set -u
bin=${TCN_BIN_DIR:?}
tcn=$bin/tcn
server=$bin/../tests/test_api
[ -x "$server" ] || { echo "SKIPPED: $server not built"; exit 77; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pass=0; fail=0
. "$(dirname "$0")/lib.sh"
expect() { local name=$1; shift; if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $name ($*)"; fi; }
absent() { ! grep -q "$@"; } # absent GREP_ARGS...: grep finds nothing
one_json_object() { [ "$(wc -l <"$1")" -eq 1 ] && python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$1" 2>/dev/null; }

net=$tmp/net; mkdir -p "$net"
"$server" --serve "$net" 2>"$tmp/server.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$net/follower_url" ] && break; sleep 0.1; done
[ -s "$net/follower_url" ] || { echo "FAIL: the test server did not start"; cat "$tmp/server.log"; exit 1; }
L=$(cat "$net/leader_url"); F=$(cat "$net/follower_url")
op=(--dir "$net" --key "$net/operator.key")

# --- verify --------------------------------------------------------------------------
check 0 "verify pinned" -- "$tcn" verify --node "$F" --dir "$net" --json
expect "verify: one object" one_json_object "$tmp/out"
expect_field verified True "verify pinned"
expect_field tee sim "verify tee"
expect_field measurement "$(jfield measurement "$net/pins.json")" "verify measurement"
expect_field group_id "$(jfield group_id "$net/pins.json")" "verify group"
check 1 "verify unpinned" -- "$tcn" verify --node "$F" --json
expect "verify unpinned: one object" one_json_object "$tmp/out"
expect_field verified False "verify unpinned"
expect_grep "$tmp/err" "UNVERIFIED" "verify unpinned says so"
wrong=$(jfield measurement "$net/pins.json" | sed 's/^./0/;s/^00/11/')
check 1 "verify wrong measurement" -- "$tcn" verify --node "$F" --dir "$net" --expect-measurement "$wrong" --json
expect "verify wrong: one object" one_json_object "$tmp/out"
expect_field ratls measurement "verify wrong measurement names the check"
expect_field verified False "verify wrong measurement: not verified"
expect_grep "$tmp/err" "NOT VERIFIED" "verify wrong says so"
check 1 "verify wrong group" -- "$tcn" verify --node "$F" --dir "$net" --expect-group 00112233445566778899aabbccddeeff --json
expect_field ratls group-mismatch "verify wrong group names the check"
check 0 "verify human" -- "$tcn" verify --node "$L" --dir "$net"
expect_grep "$tmp/out" "^VERIFIED" "verify human line"
check 2 "verify no node" -- "$tcn" verify --dir "$net"
check 2 "verify http" -- "$tcn" verify --node "http://127.0.0.1:1" --dir "$net"
check 2 "verify unknown flag" -- "$tcn" verify --node "$F" --bogus

# --- status --------------------------------------------------------------------------
check 0 "status follower" -- "$tcn" status --node "$F" --dir "$net" --json
expect "status: one object" one_json_object "$tmp/out"
expect_field role follower "status role"
expect_field leader n1 "status leader"
expect_field members.0.name n1 "status members"
check 0 "status human" -- "$tcn" status --node "$L" --dir "$net"
expect_grep "$tmp/out" "n1 (leader)" "status human line"
check 2 "status without pins" -- "$tcn" status --node "$F" --json
check 1 "status refused pins" -- "$tcn" status --node "$F" --dir "$net" --expect-measurement "$wrong" --json
expect_field ratls measurement "status refused names the check"

# --- keygen, client add ------------------------------------------------------------
check 0 "keygen" -- "$tcn" keygen --out "$tmp/alice.key" --json
expect "keygen: one object" one_json_object "$tmp/out"
alice=$(jfield pubkey)
expect "keygen mode 0600" [ "$(stat -c %a "$tmp/alice.key")" = 600 ]
check 1 "keygen refuses to replace" -- "$tcn" keygen --out "$tmp/alice.key"
check 0 "keygen human" -- "$tcn" keygen --out "$tmp/lp.key"
lp=$(cat "$tmp/out")
"$tcn" keygen --out "$tmp/refund.key" >"$tmp/out"; refund=$(cat "$tmp/out")
check 0 "client add by operator (via follower)" -- "$tcn" client add --node "$F" "${op[@]}" --pubkey "$alice" --role user --json
expect_field role user "client add role"
check 1 "client add by a user: refused by the state" -- "$tcn" client add --node "$L" --dir "$net" --pubkey "$lp" --role operator --json
expect "client add refused: one object" one_json_object "$tmp/out"
expect_field status 422 "client add refused status"
check 2 "client add bad role" -- "$tcn" client add --node "$L" "${op[@]}" --pubkey "$lp" --role king
chmod 644 "$tmp/alice.key"
check 1 "a readable key file is refused" -- "$tcn" client add --node "$L" --dir "$net" --key "$tmp/alice.key" --pubkey "$lp" --role user --json
expect_grep "$tmp/err" "readable by others" "readable key says why"
chmod 600 "$tmp/alice.key"

# --- swaps and payouts -------------------------------------------------------------
check 0 "swap create" -- "$tcn" swap create --node "$F" --dir "$net" --key "$tmp/alice.key" --amount 2000000 --lp "$lp" --refund-to "$refund" --deadline +86400 --json
expect "swap create: one object" one_json_object "$tmp/out"
swap=$(jfield swap_id)
expect "swap create has a refund" [ "$(jfield refund_tx)" != None ]
expect_field state open "swap create state"
check 0 "swap show" -- "$tcn" swap show --node "$F" --dir "$net" "$swap" --json
expect_field state open "swap show state"
expect_field amount 2000000 "swap show amount"
check 0 "payout schedule" -- "$tcn" payout schedule --node "$F" --dir "$net" --key "$tmp/alice.key" --swap "$swap" --to "$lp" --amount 500000 --at +3600 --json
expect "payout: one object" one_json_object "$tmp/out"
payout=$(jfield payout_id)
check 0 "swap show payouts" -- "$tcn" swap show --node "$L" --dir "$net" "$swap" --json
expect_field payouts.0.payout_id "$payout" "swap show payout id"
expect_field payouts.0.status scheduled "swap show payout status"
check 0 "swap show human" -- "$tcn" swap show --node "$L" --dir "$net" "$swap"
expect_grep "$tmp/out" "payout $payout: scheduled" "swap show human"
check 1 "swap show unknown" -- "$tcn" swap show --node "$L" --dir "$net" 999999 --json
expect_field status 404 "swap show unknown status"
check 2 "swap create negative amount" -- "$tcn" swap create --node "$L" --dir "$net" --amount -5 --lp "$lp" --refund-to "$refund"
check 2 "swap create huge amount" -- "$tcn" swap create --node "$L" --dir "$net" --amount 9223372036854775808 --lp "$lp" --refund-to "$refund"
check 2 "swap create missing lp" -- "$tcn" swap create --node "$L" --dir "$net" --amount 5 --refund-to "$refund"
check 1 "swap create bad lp: the node names the field" -- "$tcn" swap create --node "$L" --dir "$net" --amount 2000000 --lp "0OIl" --refund-to "$refund" --json
expect_field field lp "swap create bad lp field"
check 2 "payout bad time" -- "$tcn" payout schedule --node "$L" --dir "$net" --swap "$swap" --to "$lp" --amount 5 --at tomorrow
check 2 "swap no subcommand" -- "$tcn" swap

# --- keys: the secret never comes back ----------------------------------------------
secret=$(python3 -c 'import os; print(os.urandom(32).hex())')
printf '%s\n' "$secret" >"$tmp/secret"; chmod 600 "$tmp/secret"
echo '{"max_per_payout": 1000000}' >"$tmp/policy.json"
check 0 "keys import" -- "$tcn" keys import --node "$F" --dir "$net" --key "$tmp/alice.key" --kind ed25519_seed --secret-file "$tmp/secret" --policy-file "$tmp/policy.json" --json
expect "keys import: one object" one_json_object "$tmp/out"
kid=$(jfield key_id)
cat "$tmp/out" "$tmp/err" >"$tmp/import.txt"
expect_field policy.max_per_payout 1000000 "keys import policy"
b64=$(python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$secret")
check 0 "keys list" -- "$tcn" keys list --node "$L" --dir "$net" --json
expect "keys list: one object" one_json_object "$tmp/out"
cat "$tmp/out" "$tmp/err" >"$tmp/list.txt"
echo '{"max_per_payout": 400000}' >"$tmp/policy2.json"
check 0 "keys policy" -- "$tcn" keys policy --node "$L" --dir "$net" --key "$tmp/alice.key" "$kid" --policy-file "$tmp/policy2.json" --json
expect_field policy.max_per_payout 400000 "keys policy set"
check 1 "keys policy: the owner may only tighten" -- "$tcn" keys policy --node "$L" --dir "$net" --key "$tmp/alice.key" "$kid" --policy-file "$tmp/policy.json" --json
expect_field status 403 "keys policy refused"
for f in "$tmp/import.txt" "$tmp/list.txt" "$tmp/out" "$tmp/err" "$tmp/server.log"; do
  expect "no secret (hex) in $(basename "$f")" absent -i -- "$secret" "$f"
  expect "no secret (base64) in $(basename "$f")" absent -F -- "$b64" "$f"
done
expect "the server logged requests" grep -q 'path=/v1/keys' "$tmp/server.log"

echo "test_api_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
