#!/usr/bin/env bash
# kill -9 of the leader during a payout burst, at three moments (DESIGN §2.3,
# §7 "exactly once, never stranded"). Each round: swaps are created (through
# a follower: 307 to the leader) and funded on the ledger, many payouts are
# scheduled due within seconds, and the leader is killed with SIGKILL
#   round 1: right after the last payout was scheduled (nothing due yet),
#   round 2: as soon as a payout intent is seen in flight,
#   round 3: right after the due time;
# then, once the survivors elected a new leader:
#   - every payout is PAID exactly once: each destination's ledger balance is
#     the sum of its payouts, every signature landed, escrow conservation
#     (check.py swaps);
#   - every swap's current refund is bound to its nonce account's current
#     value on the ledger and moves the escrow down to the reserve;
#   - writes resume: a new swap and a payout through each survivor (a
#     follower answers 307, the client follows it);
#   - the killed node, restarted (`tcn devnet restart`: same name and
#     addresses, fresh identity), joins as a new member and replaces the
#     dead one (automatic replacement after replace_after_ms).
# At the end of each round the refunds the network holds are sent to the
# ledger and must land, leaving each escrow at the reserve exactly. Each
# round has a devnet of its own (a second replacement in the same network is
# test_replace's business).
. "$(dirname "$0")/lib.sh"
cl_deadline $((200 * SLOW))

FUNDED=10000000
if [ "$SAN" = 1 ]; then SWAPS=2; PAYOUTS=3; DUE_MS=4000; else SWAPS=3; PAYOUTS=4; DUE_MS=2500; fi
REPLACE_MS=$((2000 * SLOW))
say "$SWAPS swaps x $PAYOUTS payouts per round"

swap_json() { curl -sk --max-time 3 "$(url "$1")/v1/swaps/$2"; } # swap_json NODE ID (read, no attestation: polling)
# any_intent NODE IDS...: some payout of these swaps is an intent now
any_intent() {
  local n=$1 id; shift
  for id in "$@"; do
    swap_json "$n" "$id" | jq -e '[.payouts[] | select(.status=="intent")] | length > 0' >/dev/null && return 0
  done
  return 1
}
# settled NODE IDS...: every payout of these swaps PAID, no intent open, and the node's
# view of each escrow is the ledger's with a refund bound to the nonce's current value
settled() {
  local n=$1 id s; shift
  for id in "$@"; do
    s=$(swap_json "$n" "$id") || return 1
    jq -e '[.payouts[] | select(.status!="paid")] | length == 0' <<<"$s" >/dev/null || return 1
    [ "$(jq .balance <<<"$s")" = "$(balance "$(jq -r .escrow <<<"$s")")" ] || return 1
    jq -e '.refund_nonce != null' <<<"$s" >/dev/null || return 1
  done
}
# replaced OLD_ID NEW_ID: the leader's configuration has 3 healthy voters, NEW_ID one of them, OLD_ID gone
replaced() {
  local l s; l=$(agreed_leader "${alive[@]}") || return 1
  s=$(status "$l")
  jq -e --arg o "$1" --arg n "$2" '
    ([.members[] | select(.role=="leader" or .role=="follower")] | length) == 3 and
    ([.members[] | select(.healthy)] | length) == 3 and
    ([.members[] | select(.node_id==$n and (.role=="follower" or .role=="leader"))] | length) == 1 and
    ([.members[] | select(.node_id==$o)] | length) == 0' <<<"$s" >/dev/null
}

moments=(after-scheduling intent-in-flight after-due)
last_files=()
for round in 1 2 3; do
  moment=${moments[$((round-1))]}
  dir=$tmp/net$round
  devnet_up --nodes 3 --replace-after-ms "$REPLACE_MS"
  wait_leader $((15 * SLOW))
  mapfile -t alive < <(names)
  follower=$(for n in "${alive[@]}"; do [ "$n" != "$leader" ] && echo "$n"; done | head -1)
  say "=== round $round ($moment): leader $leader, writes through $follower"
  ids=()
  for s in $(seq 1 "$SWAPS"); do
    user=$(newkey "r$round-user$s")
    id=$(swap_create "$follower" "$FUNDED" "$user" "$user") || die "round $round: swap create through $follower failed"
    airdrop "$(jq -r .escrow "$tmp/create.json")" "$FUNDED"
    ids+=("$id")
  done
  for id in "${ids[@]}"; do
    wait_for $((10 * SLOW)) "swap $id seen funded" bash -c "curl -sk $(url "$leader")/v1/swaps/$id | jq -e '.funded and .balance == $FUNDED'"
  done
  d1=$(newkey "r$round-dest1"); d2=$(newkey "r$round-dest2")
  due=$(rfc3339 $((DUE_MS + 300 * SWAPS * PAYOUTS * SLOW)))
  k=0
  for id in "${ids[@]}"; do
    for p in $(seq 1 "$PAYOUTS"); do
      k=$((k+1)); to=$d1; [ $((k % 2)) = 0 ] && to=$d2
      payout_at "$follower" "$id" "$to" $((1000000 + 1000 * k)) "$due" >/dev/null \
        || die "round $round: payout schedule on swap $id failed"
    done
  done
  say "round $round: $k payouts scheduled, due $due"
  case $moment in
    after-scheduling) ;;
    intent-in-flight) # the first intent of the burst: a tight look at the first swap
      end=$(( $(date +%s%3N) + DUE_MS + 300 * SWAPS * PAYOUTS * SLOW + 10000 * SLOW ))
      until any_intent "$leader" "${ids[0]}"; do
        [ "$(date +%s%3N)" -ge "$end" ] && { say "round $round: NOTE: no intent seen in flight"; break; }
        sleep 0.02
      done ;;
    after-due) while [ "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" \< "$due" ]; do sleep 0.05; done; sleep 0.1 ;;
  esac
  victim=$leader; victim_id=$(status "$victim" | jq -r .node_id)
  kill -KILL "$(pid_of "$victim")" || die "cannot kill $victim"
  say "round $round: kill -9 $victim (pid $(pid_of "$victim"))"
  for id in "${ids[@]}"; do swap_json "$(names | grep -vx "$victim" | head -1)" "$id" | jq -c '[.payouts[].status]'; done \
    | tr '\n' ' ' | sed "s/^/[$(date +%H:%M:%S.%3N)] round $round: payouts as a survivor saw them right after: /"; echo
  mapfile -t alive < <(names | grep -vx "$victim")
  wait_leader $((15 * SLOW)) "${alive[@]}"
  expect "round $round: a new leader among the survivors ($leader)" test "$leader" != "$victim"
  wait_for $((30 * SLOW)) "round $round: every payout PAID and every swap settled on $leader" settled "$leader" "${ids[@]}"
  files=()
  for id in "${ids[@]}"; do swap_show "$leader" "$id" >"$tmp/r$round-swap$id.json" || die "swap show $id"; files+=("$tmp/r$round-swap$id.json"); done
  if check swaps "$ledger" "$FUNDED" "${files[@]}" >"$tmp/check.out"; then
    ok "round $round: chain checks ($(grep -c '^ok' "$tmp/check.out") of them)"
  else
    bad "round $round: chain checks"; grep -v '^ok' "$tmp/check.out"
  fi
  last_files=("${files[@]}")
  # Writes resume, through each survivor (a follower redirects).
  for n in "${alive[@]}"; do
    u=$(newkey "r$round-after-$n")
    if id=$(swap_create "$n" 2000000 "$u" "$u"); then ok "round $round: swap $id created through $n after the kill"
    else bad "round $round: swap create through $n after the kill"; continue; fi
    if payout_at "$n" "$id" "$u" 100000 "$(rfc3339 3600000)" >/dev/null; then ok "round $round: payout scheduled through $n"
    else bad "round $round: payout schedule through $n after the kill"; fi
  done
  # The killed node comes back with a fresh identity and replaces itself.
  "$tcn" devnet restart "$victim" --dir "$dir" --timeout-ms $((20000 * SLOW)) --json >"$tmp/restart.json" 2>"$tmp/restart.err"
  rc=$?
  say "round $round: devnet restart $victim: exit $rc $(cat "$tmp/restart.json" "$tmp/restart.err")"
  expect_eq "round $round: $victim restarted and joined" "$(jq -r .joined "$tmp/restart.json")" true
  new_id=$(status "$victim" | jq -r .node_id)
  expect "round $round: $victim has a fresh identity ($victim_id -> $new_id)" test -n "$new_id" -a "$new_id" != "$victim_id"
  mapfile -t alive < <(names)
  expect_within $(((REPLACE_MS / 1000) + 8 * SLOW)) "round $round: $victim ($new_id) is a voter in place of the dead $victim_id (3 healthy voters)" \
    replaced "$victim_id" "$new_id"
  wait_for $((10 * SLOW)) "round $round: $victim caught up" bash -c \
    "[ \"\$(curl -sk $(url "$victim")/v1/status | jq -r .group_id)\" = $(jq -r .group_id "$tmp/up.json") ]"
  # The refunds the network holds really land, leaving the reserve.
  if check send-refunds "$ledger" "${last_files[@]}" >"$tmp/refunds.out"; then
    ok "round $round: the refunds landed on the ledger ($(grep -c '^ok' "$tmp/refunds.out") checks)"
  else
    bad "round $round: refunds sent to the ledger"; grep -v '^ok' "$tmp/refunds.out"
  fi
  "$tcn" devnet down --dir "$dir" >/dev/null || bad "round $round: devnet down"
done
finish
