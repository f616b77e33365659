#!/usr/bin/env bash
# make sim-long: tcn-sim over seeds from a random start, JOBS at a time, until stopped (Ctrl-C) or
# SIM_SECONDS have passed; prints the reproduction command of every failing seed as it is found,
# and a progress line every 100 seeds. SIM_STEPS (default 20000), SIM_ARGS (extra options, e.g.
# "--bug figure8"), SIM_START (first seed) and JOBS adjust it.
# usage: sim_long.sh TCN_SIM [SECONDS]
set -u
sim=$1 seconds=${2:-0}
steps=${SIM_STEPS:-20000}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
seed=${SIM_START:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
start=$(date +%s)
ran=0 failures=0
echo "sim-long: seeds from $seed, $steps steps each, $jobs at a time$([ "$seconds" -gt 0 ] && echo ", for $seconds s"); Ctrl-C stops"
trap 'echo; echo "sim-long: $ran seeds, $failures failing"; exit $([ $failures -eq 0 ] && echo 0 || echo 1)' INT TERM
while :; do
    if [ "$seconds" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$seconds" ]; then break; fi
    batch=$(seq "$seed" $((seed + jobs - 1)))
    for s in $batch; do
        ( out=$("$sim" --seed "$s" --steps "$steps" ${SIM_ARGS:-} 2>&1)
          rc=$?
          if [ "$rc" -ne 0 ]; then
              # One write per failure, so that parallel jobs do not interleave lines.
              printf 'FAIL seed %s (exit %s): %s\n  %s\n' "$s" "$rc" "$(echo "$out" | grep -E '^VIOLATION' | head -n 1)" \
                  "$(echo "$out" | grep -E '^reproduce:' || echo "reproduce: $sim --seed $s --steps $steps ${SIM_ARGS:-}")"
              exit 1
          fi ) &
    done
    for s in $batch; do
        wait -n || failures=$((failures + 1))
        ran=$((ran + 1))
        if [ $((ran % 100)) -eq 0 ]; then
            el=$(( $(date +%s) - start ))
            echo "sim-long: $ran seeds in $el s, $failures failing"
        fi
    done
    seed=$((seed + jobs))
done
echo "sim-long: $ran seeds in $(( $(date +%s) - start )) s, $failures failing"
[ "$failures" -eq 0 ]
