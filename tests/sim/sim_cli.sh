#!/usr/bin/env bash
# sim_cli: tcn-sim's command-line contract: usage errors exit 2 with a usage text; success prints the
# seed first and ends with the exact result line; a violation exits 1 with a VIOLATION line and a
# reproduce line whose command reproduces the same violation. Ends with "P passed, F failed".
# usage: sim_cli.sh TCN_SIM
set -u
sim=$1
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; tail -n 5 "$out"; }
expect_usage() {
    local what=$1
    shift
    "$sim" "$@" >"$out" 2>&1
    local rc=$?
    if [ "$rc" -eq 2 ] && grep -q "^usage: tcn-sim" "$out"; then ok "$what -> exit 2 with usage"; else bad "$what (exit $rc)"; fi
}
expect_usage "no arguments"
expect_usage "unknown option" --seed 1 --frobnicate
expect_usage "unknown bug" --seed 1 --bug nosuchbug
expect_usage "unknown fault" --seed 1 --faults delay,nosuchfault
expect_usage "bad node count" --seed 1 --nodes 4
expect_usage "bad seed" --seed x12
expect_usage "unknown workload" --seed 1 --workload nosuch
expect_usage "a payouts bug without the payouts workload" --seed 1 --bug skip_resume
"$sim" --help >"$out" 2>&1 && grep -q "^usage: tcn-sim" "$out" && ok "--help" || bad "--help"

"$sim" --seed 42 --steps 500 --faults partition,crash,snapshot >"$out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(head -n 1 "$out")" = "seed=42" ] &&
    tail -n 1 "$out" | grep -Eq '^seed=42 steps=[0-9]+ commits=[0-9]+ elections=[0-9]+ violations=0$' &&
    grep -q "^liveness: .*bound [0-9]* ms" "$out"; then
    ok "success: seed first, bound stated, result line last"
else
    bad "success output (exit $rc)"
fi

# The first seed (of 1..30) at which the rejoin_same_id bug is caught.
rc=0
for seed in $(seq 1 30); do
    "$sim" --seed "$seed" --steps 5000 --bug rejoin_same_id >"$out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && break
done
v1=$(grep "^VIOLATION: " "$out")
cmd=$(grep "^reproduce: " "$out" | sed 's/^reproduce: //')
if [ "$rc" -eq 1 ] && [ -n "$v1" ] && [ -n "$cmd" ]; then
    ok "violation: exit 1, VIOLATION and reproduce lines"
    $cmd >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(grep "^VIOLATION: " "$out")" = "$v1" ]; then ok "the reproduce command reproduces it"; else bad "reproduce command (exit $rc)"; fi
else
    bad "violation output (exit $rc)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
