#!/usr/bin/env bash
# sim_seeds: tcn-sim over seeds 1..N (odd seeds 3 nodes, even seeds 5 nodes, every fault), JOBS at a time;
# every seed must pass. Prints each failure's reproduction line and ends with "P passed, F failed".
# A wedged run (exit 3: at the heal no set of running nodes could elect a leader) is a failure too.
# usage: sim_seeds.sh TCN_SIM N STEPS [JOBS [EXTRA-ARGS...]]   (EXTRA-ARGS go to every run, e.g. --workload payouts)
set -u
sim=$1 n=$2 steps=$3 jobs=${4:-$(nproc 2>/dev/null || echo 2)}
shift $(($# < 4 ? $# : 4))
extra="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
one() {
    local seed=$1 nodes=$(( $1 % 2 ? 3 : 5 )) rc
    # shellcheck disable=SC2086 # extra is a word list on purpose
    "$sim" --seed "$seed" --steps "$steps" --nodes "$nodes" $extra >"$tmp/$seed.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        tail -n 1 "$tmp/$seed.out" | grep -Eq "^seed=$seed steps=[0-9]+ commits=[0-9]+ elections=[0-9]+ violations=0$" &&
            { rm -f "$tmp/$seed.out"; return 0; }
        echo "seed $seed: exit 0 but no result line" >>"$tmp/$seed.out"
    fi
    return 1
}
export -f one
export sim steps tmp extra
seq 1 "$n" | xargs -P "$jobs" -I{} bash -c 'one {} || touch "$tmp/{}.fail"'
failed=0
for f in "$tmp"/*.fail; do
    [ -e "$f" ] || continue
    seed=$(basename "$f" .fail)
    failed=$((failed + 1))
    echo "FAIL seed $seed:"
    grep -E "^(VIOLATION|WEDGED|reproduce)" "$tmp/$seed.out" || tail -n 5 "$tmp/$seed.out"
done
echo "$n seeds x $steps steps in $(( $(date +%s) - start )) s"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
