# Shared helpers of the cluster tests (sourced by tests/cluster/test_*.sh).
#
# Each test starts a real devnet (`tcn devnet up`: a `tcn ledger` and tcnd
# processes on 127.0.0.1, the sim TEE) in a fresh temp dir and always takes
# it down on exit (trap), then kills whatever of its own is left: processes
# whose command line names the temp dir, the ledger, the pids it recorded
# (cl_track). A watchdog ends the test (exit 1, cleanup runs) before CTest's
# TIMEOUT would kill it without cleanup.
#
# Environment: TCN_BIN_DIR (tcn, tcnd), TCN_CLUSTER_SANITIZE=1 in the
# ASan/UBSan build (CMake sets it: slower processes, fewer rounds, longer
# waits), TCN_CLUSTER_KEEP=1 keeps the temp dir for a look afterwards.
set -u
bin=${TCN_BIN_DIR:?TCN_BIN_DIR: the directory of tcn and tcnd}
tcn=$bin/tcn
tcnd=$bin/tcnd
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcn-cluster.XXXXXX")
dir=$tmp/net
pass=0; fail=0
cl_pids=()
cl_test=$(basename "$0" .sh)
SAN=${TCN_CLUSTER_SANITIZE:-0}
# scale N: N under the sanitizers times this (their processes run several times slower)
if [ "$SAN" = 1 ]; then SLOW=3; else SLOW=1; fi

for need in jq curl python3; do
  command -v "$need" >/dev/null || { echo "SKIP: $cl_test: '$need' is not installed (scripts/install-deps.sh installs it)"; exit 77; }
done

say() { echo "[$(date +%H:%M:%S.%3N)] $*"; }

cl_track() { cl_pids+=("$1"); } # a process the test started itself: killed on exit

cl_tails() { # the last lines of every process log of the devnet
  local f
  for f in "$dir"/*.log; do
    [ -f "$f" ] || continue
    echo "---- tail of $(basename "$f")"
    tail -n "${1:-25}" "$f" | sed 's/^/  /'
  done
}

cl_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${cl_watchdog:-}" ]; then # the watchdog first, then its sleep
    kill "$cl_watchdog" 2>/dev/null; wait "$cl_watchdog" 2>/dev/null
    [ -f "$tmp/watchdog.sleep" ] && kill "$(cat "$tmp/watchdog.sleep")" 2>/dev/null
  fi
  local p lpid="" laddr=""
  if [ -f "$dir/devnet.json" ]; then
    lpid=$(jq -r '.ledger.pid // empty' "$dir/devnet.json")
    laddr=$(jq -r '.ledger.listen // empty' "$dir/devnet.json")
    # A stopped (SIGSTOP) node would only die at the SIGKILL after the grace: wake them all.
    for p in $(jq -r '.nodes[].pid' "$dir/devnet.json"); do kill -CONT "$p" 2>/dev/null; done
    "$tcn" devnet down --dir "$dir" >/dev/null 2>&1
  fi
  for p in "${cl_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # Leftovers: only processes whose command line names our temp dir (every
  # tcnd carries $dir/platform.key or another key file under $tmp) ...
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF -- "$tmp/"; then
      kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
    fi
  done
  # ... and our ledger (its command line names its listen address).
  if [ -n "$lpid" ] && [ -n "$laddr" ] && { tr '\0' ' ' <"/proc/$lpid/cmdline"; } 2>/dev/null | grep -qF -- "--listen $laddr "; then
    kill -KILL "$lpid" 2>/dev/null
  fi
  # Under the sanitizers a process reports into its log (at exit for leaks):
  # any report fails the test.
  local reports
  reports=$(grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp" --include='*.log' 2>/dev/null)
  if [ -n "$reports" ]; then
    echo "FAIL: $cl_test: sanitizer reports in: $reports"
    grep -rhE -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' $reports | head -60
    [ "$rc" -eq 0 ] && rc=1
  fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then cl_tails 40; fi
  if [ "${TCN_CLUSTER_KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cl_cleanup EXIT
trap 'echo "FAIL: $cl_test: interrupted, or the watchdog: out of time (${cl_watchdog_secs:-?} s)"; exit 1' INT TERM

# cl_deadline SECONDS: the test ends (exit 1, with cleanup) after this long.
# (Its output goes nowhere, so it never holds the test's stdout open.)
cl_deadline() {
  ( sleep "$1" & echo $! >"$tmp/watchdog.sleep"; wait; kill -TERM $$ ) >/dev/null 2>&1 &
  cl_watchdog=$!
  cl_watchdog_secs=$1
}

die() { echo "FAIL: $cl_test: $*"; exit 1; }
ok() { pass=$((pass+1)); say "ok: $*"; }
bad() { fail=$((fail+1)); say "FAIL: $*"; }
expect() { # expect NAME CONDITION...: counts a pass or a failure
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name ($*)"; fi
}
expect_eq() { # expect_eq NAME GOT WANT
  if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2', want '$3'"; fi
}
finish() { # the verdict: exit 0 only when something passed and nothing failed
  say "$cl_test: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] || exit 1
  exit 0
}

# try_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds (0), or 1 after SECONDS.
try_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s%N)" -ge "$end" ] && return 1
    sleep 0.2
  done
}
# wait_for SECONDS WHAT CMD...: try_for, and on timeout the test fails (exit
# 1), saying WHAT, with the node logs' tails.
wait_for() {
  local secs=$1 what=$2; shift 2
  try_for "$secs" "$@" || die "timed out after ${secs} s waiting for: $what"
}
# expect_within SECONDS WHAT CMD...: try_for, counted as a pass or a failure
# (the test goes on); a failure prints the members as the first node sees them.
expect_within() {
  local secs=$1 what=$2; shift 2
  if try_for "$secs" "$@"; then ok "$what"; else
    bad "$what: not within ${secs} s"
    local n; for n in $(names); do status "$n" | jq -c '{name,role,term,leader,members:[.members[]|[.name,.node_id,.role,.healthy]]}' 2>/dev/null && break; done
  fi
}

# ---- the devnet -------------------------------------------------------------

# devnet_up [ARGS...]: a devnet in $dir (sets $ledger); under the sanitizers
# with a slower heartbeat (their elections would otherwise be flaky).
devnet_up() {
  local extra=()
  [ "$SAN" = 1 ] && extra=(--heartbeat-ms 100 --election-timeout-ms 1000)
  "$tcn" devnet up --dir "$dir" "${extra[@]}" "$@" --json >"$tmp/up.json" 2>"$tmp/up.err" \
    || { cat "$tmp/up.err"; die "tcn devnet up failed"; }
  ledger=$(jq -r .ledger "$tmp/up.json")
  [ -n "$ledger" ] || die "devnet up printed no ledger"
}
names() { jq -r '.nodes[].name' "$dir/devnet.json"; }
api() { jq -r --arg n "$1" '.nodes[] | select(.name==$n) | .api' "$dir/devnet.json"; }
url() { echo "https://$(api "$1")"; }
pid_of() { jq -r --arg n "$1" '.nodes[] | select(.name==$n) | .pid' "$dir/devnet.json"; }
# status NAME: the node's /v1/status (curl: the API is server-auth TLS; the
# attested client is what `tcn` commands use, status is only polled here)
status() { curl -sk --max-time 3 "$(url "$1")/v1/status"; }
metric() { # metric NAME METRIC: a counter of the node's /metrics
  curl -sk --max-time 3 "$(url "$1")/metrics" | awk -v m="$2" '$1==m {print $2}'
}
# leader_of NAME: the leader NAME believes in ("" when none)
leader_of() { status "$1" | jq -r '.leader // empty'; }
# agreed_leader [NAMES...]: prints the leader when every named node (default:
# all) answers, one of them is that leader with role leader, and all agree
# on it and on the term; fails otherwise.
agreed_leader() {
  local n s l t leaders="" terms="" lrole=""
  local list=("$@"); [ ${#list[@]} -eq 0 ] && mapfile -t list < <(names)
  for n in "${list[@]}"; do
    s=$(status "$n") || return 1
    l=$(jq -r '.leader // empty' <<<"$s"); t=$(jq -r .term <<<"$s")
    [ -n "$l" ] || return 1
    leaders+="$l"$'\n'; terms+="$t"$'\n'
    [ "$l" = "$n" ] && lrole=$(jq -r .role <<<"$s")
  done
  [ "$(sort -u <<<"$leaders" | grep -c .)" = 1 ] && [ "$(sort -u <<<"$terms" | grep -c .)" = 1 ] \
    && [ "$lrole" = leader ] || return 1
  sort -u <<<"$leaders" | grep .
}
wait_leader() { # wait_leader SECONDS [NAMES...]: sets $leader
  local secs=$1; shift
  wait_for "$secs" "one leader agreed by ${*:-all nodes}" agreed_leader "$@"
  leader=$(agreed_leader "$@")
}

# ---- the ledger -------------------------------------------------------------

balance() { "$tcn" ledger balance --rpc "$ledger" "$1" --json | jq -r .lamports; }
airdrop() { "$tcn" ledger airdrop --rpc "$ledger" --to "$1" --amount "$2" >/dev/null || die "airdrop to $1 failed"; }
rpc() { # rpc METHOD PARAMS_JSON: the JSON-RPC answer
  curl -s --max-time 5 "$ledger" -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"
}
newkey() { "$tcn" keygen --out "$tmp/$1.key" --json | jq -r .pubkey; } # newkey NAME: a fresh public key

# ---- swaps and payouts --------------------------------------------------------

# swap_create NODE AMOUNT LP REFUND_TO: prints the swap id (the command
# follows a 307 to the leader; it waits for the first refund)
swap_create() {
  "$tcn" swap create --dir "$dir" --node "$(url "$1")" --amount "$2" --lp "$3" --refund-to "$4" --json \
    >"$tmp/create.json" 2>"$tmp/create.err" || { cat "$tmp/create.json" "$tmp/create.err"; return 1; }
  jq -e '.state == "open"' "$tmp/create.json" >/dev/null || { cat "$tmp/create.json"; return 1; }
  jq -r .swap_id "$tmp/create.json"
}
swap_show() { "$tcn" swap show --dir "$dir" --node "$(url "$1")" "$2" --json; } # swap_show NODE ID
payout_at() { # payout_at NODE SWAP TO AMOUNT RFC3339: prints the payout id
  "$tcn" payout schedule --dir "$dir" --node "$(url "$1")" --swap "$2" --to "$3" --amount "$4" --at "$5" --json \
    | jq -er .payout_id
}
# rfc3339 MS_FROM_NOW: a time that many ms from now, in UTC
rfc3339() { local t=$(( $(date +%s%3N) + $1 )); date -u -d "@$((t / 1000)).$(printf %03d $((t % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }

# check.py does the chain-side checks (refund bound to the nonce, amounts,
# signatures landed, conservation): see its header.
check() { python3 "$here/check.py" "$@"; }
