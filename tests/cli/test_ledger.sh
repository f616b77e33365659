#!/usr/bin/env bash
# CLI contract of tcn ledger: a real ledger process on 127.0.0.1 (started
# here, always killed on exit), airdrop and balance against it, its clock
# and seed, SIGTERM/SIGINT, a taken port, the loopback-only rule, and the
# exit codes (0 success, 1 refused/failed, 2 usage). Loopback only.
set -u
bin=${TCN_BIN_DIR:?}
tcn=$bin/tcn
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pass=0; fail=0

. "$(dirname "$0")/lib.sh"
expect() { # expect NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $name ($*)"; fi
}
one_json_object() { # one_json_object FILE: exactly one line, and it is a JSON object
  [ "$(wc -l <"$1")" -eq 1 ] && python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$1" 2>/dev/null
}
b58() { # b58 HEX: base58 (Bitcoin alphabet) of the bytes
  python3 -c 'import sys
A="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
b=bytes.fromhex(sys.argv[1]); n=int.from_bytes(b,"big"); s=""
while n: n,r=divmod(n,58); s=A[r]+s
print("1"*(len(b)-len(b.lstrip(b"\0")))+s)' "$1"; }
b58len() { # b58len TEXT: how many bytes the base58 text decodes to
  python3 -c 'import sys
A="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"; t=sys.argv[1]; n=0
for c in t: n=n*58+A.index(c)
print(len(t)-len(t.lstrip("1"))+(n.bit_length()+7)//8)' "$1"; }
rpc() { # rpc URL METHOD [PARAMS_JSON]: the raw JSON-RPC answer's "result"
  python3 -c 'import json,sys,urllib.request
req=urllib.request.Request(sys.argv[1],data=json.dumps({"jsonrpc":"2.0","id":7,"method":sys.argv[2],"params":json.loads(sys.argv[3])}).encode(),headers={"Content-Type":"application/json"})
print(json.dumps(json.load(urllib.request.urlopen(req,timeout=10))["result"]))' "$1" "$2" "${3:-[]}"; }
hexrep() { printf "$1%.0s" $(seq 1 "$2"); }

# start_ledger NAME ARGS...: a ledger in the background (stdout in
# $tmp/NAME.out, stderr in $tmp/NAME.err); waits for its first line; sets
# $lpid. Killed on exit whatever happens.
start_ledger() {
  local name=$1; shift
  "$tcn" ledger "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  lpid=$!; pids+=("$lpid")
  for _ in $(seq 1 100); do
    [ "$(wc -l <"$tmp/$name.out")" -ge 1 ] && return 0
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: ledger $name did not print its URL"; sed 's/^/  err: /' "$tmp/$name.err" | head -5
  fail=$((fail+1)); return 1
}
# stop_ledger PID SIGNAL NAME: the ledger must exit 0 within one second of SIGNAL.
stop_ledger() {
  local pid=$1 st t0 t1 rc
  kill -s "$2" "$pid"
  t0=$(date +%s%N)
  for _ in $(seq 1 20); do # a child that exited is a zombie until waited for
    st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)
    [ -z "$st" ] || [ "$st" = Z ] && break
    sleep 0.05
  done
  st=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)
  t1=$(date +%s%N)
  if [ -n "$st" ] && [ "$st" != Z ]; then
    fail=$((fail+1)); echo "FAIL: $3: still running 1 s after $2"; kill -KILL "$pid"; wait "$pid" 2>/dev/null; return
  fi
  wait "$pid"; rc=$?
  if [ "$rc" -eq 0 ] && [ $(( (t1 - t0) / 1000000 )) -le 1000 ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL: $3: exit $rc after $(( (t1 - t0) / 1000000 )) ms, want 0 within 1000 ms"; fi
}

k1=$(b58 "$(hexrep 11 32)"); k2=$(b58 "$(hexrep 22 32)"); k3=$(b58 "$(hexrep 33 32)")
k31=$(b58 "$(hexrep 44 31)"); k33=$(b58 "$(hexrep 44 33)"); sig64=$(b58 "$(hexrep 55 64)")
i63=9223372036854775807

# --- Usage errors exit 2 (serve-mode ones under a timeout: none may start serving).
check 0 "help" -- "$tcn" ledger --help
expect_grep "$tmp/out" "tcn ledger airdrop" "help names airdrop"
check 0 "airdrop help" -- "$tcn" ledger airdrop --help
check 2 "unknown subcommand" -- timeout 10 "$tcn" ledger frobnicate
check 2 "unknown option" -- timeout 10 "$tcn" ledger --colour
check 2 "--listen without value" -- timeout 10 "$tcn" ledger --listen
check 2 "--listen without port" -- timeout 10 "$tcn" ledger --listen 127.0.0.1
check 2 "--listen port too large" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:65536
check 2 "--listen negative port" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:-1
check 2 "--listen empty port" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:
check 2 "--listen host name" -- timeout 10 "$tcn" ledger --listen example.com:0
check 2 "--listen IPv6 without brackets" -- timeout 10 "$tcn" ledger --listen ::1:0
check 2 "0.0.0.0 without --public" -- timeout 10 "$tcn" ledger --listen 0.0.0.0:0
expect_grep "$tmp/err" "public" "non-loopback refusal names --public"
check 2 "[::] without --public" -- timeout 10 "$tcn" ledger --listen "[::]:0"
check 2 "10.0.0.1 without --public" -- timeout 10 "$tcn" ledger --listen 10.0.0.1:0 --json
check 2 "--slot-ms 0" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:0 --slot-ms 0
check 2 "--slot-ms not a number" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:0 --slot-ms 4e2
check 2 "--slot-ms too large" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:0 --slot-ms 3600001
check 2 "--seed empty" -- timeout 10 "$tcn" ledger --listen 127.0.0.1:0 --seed ""
u=http://127.0.0.1:1
check 2 "airdrop without --rpc" -- "$tcn" ledger airdrop --to "$k1" --amount 1
check 2 "airdrop without --to" -- "$tcn" ledger airdrop --rpc $u --amount 1
check 2 "airdrop without --amount" -- "$tcn" ledger airdrop --rpc $u --to "$k1"
check 2 "airdrop positional" -- "$tcn" ledger airdrop --rpc $u --to "$k1" --amount 1 extra
check 2 "airdrop --amount without value" -- "$tcn" ledger airdrop --rpc $u --to "$k1" --amount
for a in -5 +5 " 5" "5 " "" 0 1e9 12abc 0x10 18446744073709551616 99999999999999999999999; do
  check 2 "airdrop --amount '$a'" -- "$tcn" ledger airdrop --rpc $u --to "$k1" --amount "$a"
done
check 2 "airdrop --amount above 2^63-1" -- "$tcn" ledger airdrop --rpc $u --to "$k1" --amount 9223372036854775808
check 2 "airdrop --amount u64 max" -- "$tcn" ledger airdrop --rpc $u --to "$k1" --amount 18446744073709551615
check 2 "--to not base58 (0)" -- "$tcn" ledger airdrop --rpc $u --to "0${k1:1}" --amount 1
check 2 "--to not base58 (l)" -- "$tcn" ledger airdrop --rpc $u --to "l${k1:1}" --amount 1
check 2 "--to 31 bytes" -- "$tcn" ledger airdrop --rpc $u --to "$k31" --amount 1
expect_grep "$tmp/err" "31" "the length refusal says how many bytes"
check 2 "--to 33 bytes" -- "$tcn" ledger airdrop --rpc $u --to "$k33" --amount 1
check 2 "--to a signature" -- "$tcn" ledger airdrop --rpc $u --to "$sig64" --amount 1
check 2 "balance without PUBKEY" -- "$tcn" ledger balance --rpc $u
check 2 "balance without --rpc" -- "$tcn" ledger balance "$k1"
check 2 "balance two PUBKEYs" -- "$tcn" ledger balance --rpc $u "$k1" "$k2"
check 2 "balance bad PUBKEY" -- "$tcn" ledger balance --rpc $u "I${k1:1}"
check 2 "balance --to is airdrop's" -- "$tcn" ledger balance --rpc $u --to "$k1"
# Sanity of the test's own keys: 32 bytes each.
expect "test keys are 32 bytes" [ "$(b58len "$k1")$(b58len "$k2")$(b58len "$k3")" = 323232 ]

# --- A ledger, as the issue starts it.
start_ledger a --listen 127.0.0.1:0 --json || { echo "$pass passed, $fail failed"; exit 1; }
pid_a=$lpid
url=$(jfield rpc "$tmp/a.out")
port=${url##*:}
expect "ledger a: one JSON object" one_json_object "$tmp/a.out"
expect "ledger a: rpc is http://127.0.0.1:PORT" [ "$url" = "http://127.0.0.1:$port" ]
expect "ledger a: a port was picked" [ "$port" -gt 0 ]
expect "ledger a: pid" [ "$(jfield pid "$tmp/a.out")" = "$pid_a" ]
expect "ledger a: slot_ms default" [ "$(jfield slot_ms "$tmp/a.out")" = 400 ]

check 0 "balance of a new key" -- "$tcn" ledger balance --rpc "$url" "$k1" --json
expect "balance: one JSON object" one_json_object "$tmp/out"
expect_field pubkey "$k1" "balance: pubkey"
expect_field lamports 0 "balance: lamports"
check 0 "airdrop" -- "$tcn" ledger airdrop --rpc "$url" --to "$k1" --amount 1500000000 --json
expect "airdrop: one JSON object" one_json_object "$tmp/out"
expect_field to "$k1" "airdrop: to"
expect_field amount 1500000000 "airdrop: amount"
sig1=$(jfield signature)
expect "airdrop: the signature is 64 bytes of base58" [ "$(b58len "$sig1" 2>/dev/null)" = 64 ]
check 0 "airdrop again, text" -- "$tcn" ledger airdrop --rpc "$url" --to "$k1" --amount 250
sig2=$(cat "$tmp/out")
expect "airdrop text: the signature alone" [ "$(b58len "$sig2" 2>/dev/null)" = 64 ]
expect "two airdrops, two signatures" [ "$sig1" != "$sig2" ]
check 0 "balance after two airdrops" -- "$tcn" ledger balance --rpc "$url" "$k1" --json
expect_field lamports 1500000250 "balance: the sum of the airdrops"
check 0 "balance text" -- "$tcn" ledger balance --rpc "$url" "$k1"
expect_grep "$tmp/out" "^1500000250 lamports (slot [0-9]*)$" "balance text: lamports and slot"
check 0 "another key untouched" -- "$tcn" ledger balance --rpc "$url" "$k2" --json
expect_field lamports 0 "balance of k2"
check 0 "airdrop 2^63-1" -- "$tcn" ledger airdrop --rpc "$url" --to "$k2" --amount $i63 --json
check 0 "balance 2^63-1" -- "$tcn" ledger balance --rpc "$url" "$k2" --json
expect_field lamports $i63 "balance: 2^63-1 exactly"
# Refused by the ledger: the total supply would overflow u64.
check 1 "airdrop refused by the RPC" -- "$tcn" ledger airdrop --rpc "$url" --to "$k3" --amount $i63
expect_grep "$tmp/err" "refused" "RPC refusal: says refused"
expect_grep "$tmp/err" "overflow" "RPC refusal: says why"
check 1 "airdrop refused by the RPC, json" -- "$tcn" ledger airdrop --rpc "$url" --to "$k3" --amount $i63 --json
expect "RPC refusal json: one JSON object" one_json_object "$tmp/out"
expect_field rpc_code -32602 "RPC refusal json: the JSON-RPC code"
check 0 "nothing minted by the refusal" -- "$tcn" ledger balance --rpc "$url" "$k3" --json
expect_field lamports 0 "refused airdrop: k3 still empty"
# A wrong path on the right server, a URL that is not http(s).
check 1 "wrong path: HTTP 404" -- "$tcn" ledger balance --rpc "$url/other" "$k1"
expect_grep "$tmp/err" "HTTP status 404" "404 named"
check 1 "not an http URL" -- "$tcn" ledger balance --rpc "ftp://127.0.0.1:$port/" "$k1"
expect_grep "$tmp/err" "http://" "bad URL named"
check 1 "not a URL" -- "$tcn" ledger airdrop --rpc "127.0.0.1:$port" --to "$k1" --amount 1 --json
expect_field error_code TCN_ERR_USAGE "bad URL json: code"
# The raw JSON-RPC is there too (the same server a real client talks to).
expect "getBalance over raw JSON-RPC" [ "$(rpc "$url" getBalance "[\"$k1\"]" | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')" = 1500000250 ]

# A second ledger on the same, explicit, port fails and says why.
check 1 "second ledger on the same port" -- timeout 10 "$tcn" ledger --listen "127.0.0.1:$port"
expect_grep "$tmp/err" "127.0.0.1:$port" "taken port: the address named"
expect_grep "$tmp/err" "in use" "taken port: the reason named"
check 1 "second ledger on the same port, json" -- timeout 10 "$tcn" ledger --listen "127.0.0.1:$port" --json
expect "taken port json: one JSON object" one_json_object "$tmp/out"
expect_field error_code TCN_ERR_IO "taken port json: code"
check 0 "the first ledger still answers" -- "$tcn" ledger balance --rpc "$url" "$k1" --json
expect_field lamports 1500000250 "first ledger unharmed"

# SIGTERM: exit 0 within a second; nothing more on stdout.
stop_ledger "$pid_a" TERM "ledger a SIGTERM"
expect "ledger a: still one JSON object on stdout" one_json_object "$tmp/a.out"
expect_grep "$tmp/a.err" "SIGTERM: stopped at slot" "ledger a: says it stopped"
# Now the port is closed: unreachable.
check 1 "unreachable RPC" -- "$tcn" ledger balance --rpc "$url" "$k1"
expect_grep "$tmp/err" "connect" "unreachable: connect named"
expect_grep "$tmp/err" "127.0.0.1:$port" "unreachable: URL named"
check 1 "unreachable RPC, airdrop json" -- "$tcn" ledger airdrop --rpc "$url" --to "$k1" --amount 1 --json
expect "unreachable json: one JSON object" one_json_object "$tmp/out"
expect_field error_code TCN_ERR_IO "unreachable json: code"

# --- The clock: slots advance every --slot-ms (text mode; SIGINT stops it).
start_ledger b --listen localhost:0 --slot-ms 50 || { echo "$pass passed, $fail failed"; exit 1; }
pid_b=$lpid
expect_grep "$tmp/b.out" "^tcn ledger: serving the chain model at http://127.0.0.1:[0-9]* (pid $pid_b, a slot every 50 ms)" "ledger b: text line"
url_b=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/b.out")
check 0 "ledger b: balance" -- "$tcn" ledger balance --rpc "$url_b" "$k1" --json
s1=$(jfield slot)
sleep 0.6
check 0 "ledger b: balance later" -- "$tcn" ledger balance --rpc "$url_b" "$k1" --json
s2=$(jfield slot)
expect "slots advance every 50 ms ($s1 -> $s2)" [ "$s2" -ge $((s1 + 3)) ]
stop_ledger "$pid_b" INT "ledger b SIGINT"
expect_grep "$tmp/b.err" "SIGINT: stopped at slot" "ledger b: says it stopped"

# --- The seed fixes slot 0's blockhash: SHA-256(seed) (docs/CHAIN.md); a slow clock stays at slot 0.
start_ledger c --listen 127.0.0.1:0 --seed tcn-test --slot-ms 3600000 --json || { echo "$pass passed, $fail failed"; exit 1; }
pid_c=$lpid
url_c=$(jfield rpc "$tmp/c.out")
want_bh=$(b58 "$(printf tcn-test | sha256sum | cut -d' ' -f1)")
got_bh=$(rpc "$url_c" getLatestBlockhash | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"]["blockhash"])')
expect "seed: slot 0 blockhash = SHA-256(seed)" [ "$got_bh" = "$want_bh" ]
sleep 0.3
expect "slow clock: still slot 0" [ "$(rpc "$url_c" getSlot)" = 0 ]
stop_ledger "$pid_c" TERM "ledger c SIGTERM"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
