#!/usr/bin/env bash
# replace_after_ms honoured (DESIGN §6: a restarted coordinator joins as a
# learner and takes the dead member's place automatically after a delay).
# 1. A follower is killed (-9) and restarted at once (`tcn devnet restart`:
#    fresh identity, joining). It must wait as a learner: not a voter, the
#    dead member still in the configuration, until replace_after_ms after
#    the kill; then it replaces the dead voter (within a bound), leaving 3
#    healthy voters.
# 2. The same again in the same network, with the leader this time: a
#    second replacement must also leave 3 healthy voters and no dead one.
. "$(dirname "$0")/lib.sh"
cl_deadline $((120 * SLOW))

RA=$((4000 * SLOW))
devnet_up --nodes 3 --replace-after-ms "$RA"
wait_leader $((10 * SLOW))
say "leader $leader; replace_after_ms $RA"

now_ms() { date +%s%3N; }
# view: the leader's members as "node_id:role:healthy" lines (as the agreed leader sees them)
view() { local l; l=$(agreed_leader "${alive[@]}") || return 1; status "$l" | jq -r '.members[] | "\(.node_id):\(.role):\(.healthy)"'; }
three_healthy_voters() {
  local v; v=$(view) || return 1
  [ "$(grep -c ':\(follower\|leader\):true$' <<<"$v")" = 3 ] && [ "$(grep -c . <<<"$v")" = 3 ] && grep -q "^$1:" <<<"$v" && ! grep -q "^$2:" <<<"$v"
}

# round NAME: kill -9 NAME, restart it, watch the leader's view until the replacement
round() {
  local victim=$1 old_id new_id t_kill t_voter="" early=0 v el
  old_id=$(status "$victim" | jq -r .node_id)
  kill -KILL "$(pid_of "$victim")"; t_kill=$(now_ms)
  say "kill -9 $victim ($old_id)"
  mapfile -t alive < <(names | grep -vx "$victim")
  "$tcn" devnet restart "$victim" --dir "$dir" --timeout-ms $((15000 * SLOW)) --json >"$tmp/restart.json" 2>&1
  expect_eq "$victim restarted and joined" "$(jq -r .joined "$tmp/restart.json" 2>/dev/null)" true
  new_id=$(status "$victim" | jq -r .node_id)
  say "$victim is back as $new_id, $(( $(now_ms) - t_kill )) ms after the kill"
  mapfile -t alive < <(names)
  while [ $(( $(now_ms) - t_kill )) -lt $((RA + 10000 * SLOW)) ]; do
    v=$(view) || { sleep 0.1; continue; }
    el=$(( $(now_ms) - t_kill ))
    if grep -q "^$new_id:\(follower\|leader\):" <<<"$v"; then t_voter=$el; break; fi
    if grep -q "^$new_id:learner:" <<<"$v" && grep -q "^$old_id:" <<<"$v"; then early=$((early+1)); fi
    sleep 0.1
  done
  expect "$victim: seen waiting as a learner beside the dead member before the delay ($early looks)" test "$early" -gt 0
  if [ -z "$t_voter" ]; then bad "$victim ($new_id) never became a voter within $((RA + 10000 * SLOW)) ms of the kill"; return; fi
  say "$victim ($new_id) a voter $t_voter ms after the kill"
  expect "$victim: not a voter before replace_after_ms ($t_voter >= $RA)" test "$t_voter" -ge "$RA"
  expect "$victim: a voter within replace_after_ms + $((5000 * SLOW)) ms ($t_voter)" test "$t_voter" -le $((RA + 5000 * SLOW))
  expect_within $((5 * SLOW)) "$victim: 3 healthy voters, $new_id in, the dead $old_id out" three_healthy_voters "$new_id" "$old_id"
}

victim=$(names | grep -vx "$leader" | head -1)
round "$victim"
wait_leader $((10 * SLOW))
say "second replacement, of the leader $leader"
round "$leader"
finish
