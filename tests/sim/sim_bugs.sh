#!/usr/bin/env bash
# sim_bugs: each deliberately broken variant must be caught. For every bug, seeds 1..K run until one
# reports a VIOLATION (exit 1 with a VIOLATION line and a reproduce line); a bug not caught within K
# seeds fails the test, and so does a crash. Ends with "P passed, F failed".
# usage: sim_bugs.sh TCN_SIM K STEPS [BUGS [EXTRA-ARGS...]]
#   BUGS: a space-separated list (default: the consensus bugs); EXTRA-ARGS go to every run
#   (e.g. --workload payouts for the payout layer's bugs).
set -u
sim=$1 k=$2 steps=$3
bugs=${4:-"figure8 vote_twice skip_log_matching rejoin_same_id"}
shift $(($# < 4 ? $# : 4))
extra=("$@")
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bug in $bugs; do
    found=""
    for seed in $(seq 1 "$k"); do
        "$sim" --seed "$seed" --steps "$steps" --bug "$bug" "${extra[@]}" >"$out" 2>&1
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q "^VIOLATION: " "$out" && grep -q "^reproduce: .*--seed $seed .*--bug $bug" "$out"; then
            found=$seed
            break
        elif [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then # 3: wedged, no violation: try the next seed
            echo "bug $bug seed $seed: exit $rc without a proper violation report:"
            tail -n 5 "$out"
            break
        fi
    done
    if [ -n "$found" ]; then
        passed=$((passed + 1))
        echo "bug $bug: caught at seed $found (bound $k): $(grep '^VIOLATION: ' "$out" | cut -c1-160)"
    else
        failed=$((failed + 1))
        echo "bug $bug: NOT caught within seeds 1..$k"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
