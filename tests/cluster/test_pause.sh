#!/usr/bin/env bash
# SIGSTOP of the leader past the election timeout, then SIGCONT (DESIGN §2:
# the host controls process life; §6 check-quorum; node_exec.c's lease).
# Swaps are funded and payouts fall due; the leader is paused while payout
# intents are in flight. Meanwhile the others elect a new leader, which
# finishes every payout. After SIGCONT the old leader steps down (its status
# says follower, under the new leader, in the new term) and submits nothing
# new to the chain: its tcn_exec_transactions_sent_total is the same after
# it resumed as it was just before the pause, and stays so; every payout
# landed exactly once (check.py swaps).
. "$(dirname "$0")/lib.sh"
cl_deadline $((150 * SLOW))

FUNDED=10000000
if [ "$SAN" = 1 ]; then SWAPS=2; PAYOUTS=3; else SWAPS=3; PAYOUTS=4; fi
devnet_up --nodes 3 --replace-after-ms 0
wait_leader $((10 * SLOW))
old=$leader
mapfile -t others < <(names | grep -vx "$old")
say "leader $old; $SWAPS swaps x $PAYOUTS payouts"

swap_json() { curl -sk --max-time 3 "$(url "$1")/v1/swaps/$2"; }
any_intent() {
  local n=$1 id; shift
  for id in "$@"; do
    swap_json "$n" "$id" | jq -e '[.payouts[] | select(.status=="intent")] | length > 0' >/dev/null && return 0
  done
  return 1
}
settled() {
  local n=$1 id s; shift
  for id in "$@"; do
    s=$(swap_json "$n" "$id") || return 1
    jq -e '[.payouts[] | select(.status!="paid")] | length == 0' <<<"$s" >/dev/null || return 1
    [ "$(jq .balance <<<"$s")" = "$(balance "$(jq -r .escrow <<<"$s")")" ] || return 1
    jq -e '.refund_nonce != null' <<<"$s" >/dev/null || return 1
  done
}

ids=()
for s in $(seq 1 "$SWAPS"); do
  user=$(newkey "user$s")
  id=$(swap_create "${others[0]}" "$FUNDED" "$user" "$user") || die "swap create failed"
  airdrop "$(jq -r .escrow "$tmp/create.json")" "$FUNDED"
  ids+=("$id")
done
for id in "${ids[@]}"; do
  wait_for $((10 * SLOW)) "swap $id seen funded" bash -c "curl -sk $(url "$old")/v1/swaps/$id | jq -e '.funded and .balance == $FUNDED'"
done
d1=$(newkey dest1); d2=$(newkey dest2)
due=$(rfc3339 $((1500 + 300 * SWAPS * PAYOUTS * SLOW)))
k=0
for id in "${ids[@]}"; do
  for p in $(seq 1 "$PAYOUTS"); do
    k=$((k+1)); to=$d1; [ $((k % 2)) = 0 ] && to=$d2
    payout_at "${others[0]}" "$id" "$to" $((1000000 + 1000 * k)) "$due" >/dev/null || die "payout schedule failed"
  done
done
say "$k payouts due $due"
try_for $((20 * SLOW)) any_intent "$old" "${ids[@]}" || say "NOTE: no intent seen in flight; pausing anyway"
pid=$(pid_of "$old")
sent0=$(metric "$old" tcn_exec_transactions_sent_total)
kill -STOP "$pid" || die "cannot SIGSTOP $old"
t_stop=$(date +%s%N)
say "SIGSTOP $old (pid $pid); it had sent $sent0 transactions"
expect "the counter tcn_exec_transactions_sent_total is there" test -n "$sent0"

wait_leader $((15 * SLOW)) "${others[@]}"
new=$leader
expect "a new leader among the others while $old is paused ($new)" test "$new" != "$old"
new_term=$(status "$new" | jq .term)
wait_for $((30 * SLOW)) "every payout PAID under $new" settled "$new" "${ids[@]}"
ok "every payout PAID under $new while $old is paused"
paused_ms=$(( ($(date +%s%N) - t_stop) / 1000000 ))
kill -CONT "$pid"
say "SIGCONT $old after $paused_ms ms (election timeout $(jq .election_timeout_ms "$dir/devnet.json") ms)"

old_is_follower() {
  local s; s=$(status "$old") || return 1
  jq -e --arg l "$new" --argjson t "$new_term" '.role == "follower" and .leader == $l and .term >= $t' <<<"$s" >/dev/null
}
expect_within $((10 * SLOW)) "$old stepped down: follower of $new in term >= $new_term" old_is_follower
sent1=$(metric "$old" tcn_exec_transactions_sent_total)
refused1=$(metric "$old" tcn_exec_sends_refused_total)
expect_eq "$old sent nothing when it resumed (tcn_exec_transactions_sent_total)" "$sent1" "$sent0"
sleep $((3 * SLOW))
sent2=$(metric "$old" tcn_exec_transactions_sent_total)
expect_eq "$old sends nothing afterwards either" "$sent2" "$sent0"
say "$old: sends held back by the lease: $refused1 -> $(metric "$old" tcn_exec_sends_refused_total)"
expect_eq "$old still a follower" "$(status "$old" | jq -r .role)" follower
expect_eq "$old agrees on the leader" "$(agreed_leader)" "$new"
expect_within $((10 * SLOW)) "$old caught up: every payout PAID in its view too" settled "$old" "${ids[@]}"

files=()
for id in "${ids[@]}"; do swap_show "$new" "$id" >"$tmp/swap$id.json" || die "swap show $id"; files+=("$tmp/swap$id.json"); done
if check swaps "$ledger" "$FUNDED" "${files[@]}" >"$tmp/check.out"; then
  ok "payouts landed exactly once, refunds bound to the nonce ($(grep -c '^ok' "$tmp/check.out") chain checks)"
else
  bad "chain checks"; grep -v '^ok' "$tmp/check.out"
fi
# Writes still work, through the old leader too (it redirects now).
u=$(newkey after)
if id=$(swap_create "$old" 2000000 "$u" "$u"); then ok "swap $id created through $old (307 to $new)"; else bad "swap create through $old"; fi
finish
