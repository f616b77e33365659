#!/usr/bin/env bash
# Attest and refuse (DESIGN §2.1, §4): three real tcnd processes come up,
# attest each other, elect one leader (all three agree on it and on the
# term, all three are healthy members); then two nodes that must not get in
# ask to join and are refused, and learn nothing:
#  - a copy of tcnd with one byte appended (another sim measurement):
#    `tcn devnet add --binary` says joined false, exits 1; its log shows the
#    `measurement` refusal, a member's log too; its own status shows no
#    group, no members, applied index 0; the members' view is unchanged;
#  - a node whose evidence is signed by another sim platform key (another
#    "TEE vendor"): the same, with the `evidence` refusal.
. "$(dirname "$0")/lib.sh"
cl_deadline $((150 * SLOW))

devnet_up --nodes 3
say "devnet up: $(jq -c '[.nodes[].name]' "$tmp/up.json"), group $(jq -r .group_id "$tmp/up.json")"
wait_leader $((10 * SLOW))
say "leader: $leader"
expect "one leader, agreed by all three on leader and term" test -n "$leader"
for n in $(names); do
  s=$(status "$n")
  expect_eq "$n: 3 members" "$(jq '.members | length' <<<"$s")" 3
  expect_eq "$n: every member healthy" "$(jq '[.members[] | select(.healthy)] | length' <<<"$s")" 3
  expect_eq "$n: exactly one member has the role leader" "$(jq '[.members[] | select(.role=="leader")] | length' <<<"$s")" 1
  expect_eq "$n: the group id pinned by the devnet" "$(jq -r .group_id <<<"$s")" "$(jq -r .group_id "$tmp/up.json")"
  # The attested client: the node's evidence verifies against the pins.
  "$tcn" verify --dir "$dir" --node "$(url "$n")" --json >"$tmp/verify.json" 2>&1
  expect_eq "$n: tcn verify against the devnet's pins" "$(jq -r .verified "$tmp/verify.json")" true
done
members_before=$(status "$leader" | jq -c '[.members[].node_id] | sort')

# refused NAME CHECK: the node NAME (just added) learned nothing and was refused by CHECK.
refused() {
  local n=$1 check=$2 s
  s=$(status "$n")
  [ -n "$s" ] || { bad "$n: its API answers"; return; }
  expect_eq "$n: no group id" "$(jq -r .group_id <<<"$s")" null
  expect_eq "$n: no members" "$(jq '.members | length' <<<"$s")" 0
  expect_eq "$n: applied index 0" "$(jq .applied_index <<<"$s")" 0
  expect_eq "$n: commit index 0" "$(jq .commit_index <<<"$s")" 0
  expect_eq "$n: no leader known" "$(jq -r .leader <<<"$s")" null
  expect_eq "$n: no coordinator key" "$(jq -r .coordinator <<<"$s")" null
  expect "$n: its log shows the '$check' refusal" grep -q "msg=\"peer: refused\".*check=$check" "$dir/$n.log"
  # In TLS 1.3 the dialer checks the member's certificate first and
  # aborts with bad_certificate, so the member never gets to judge it: its
  # log shows the alert on inbound connections, and never the newcomer up.
  local m seen=0
  for m in node-1 node-2 node-3; do grep -q 'dir=in why="tls: refused by the peer: .*bad certificate' "$dir/$m.log" && seen=1; done
  expect "a member's log shows $n's connections refused (bad certificate)" test $seen = 1
  for m in node-1 node-2 node-3; do
    expect "$m: never saw $n up" bash -c "! grep -q 'msg=\"peer: up\".*name=$n ' '$dir/$m.log'"
  done
  for m in node-1 node-2 node-3; do
    expect_eq "$m: members unchanged after $n" "$(status "$m" | jq -c '[.members[].node_id] | sort')" "$members_before"
    expect "$m: no member named $n" test "$(status "$m" | jq --arg n "$n" '[.members[] | select(.name==$n)] | length')" = 0
  done
  expect_eq "$n: the members still agree on the leader" "$(agreed_leader node-1 node-2 node-3)" "$leader"
}

# 1. Another binary: tcnd with one byte appended.
cp "$tcnd" "$tmp/tcnd-modified"; printf '\n' >>"$tmp/tcnd-modified"
expect "the modified tcnd has another measurement" \
  test "$("$tcn" measure "$tmp/tcnd-modified")" != "$(jq -r .measurement "$tmp/up.json")"
"$tcn" devnet add --dir "$dir" --binary "$tmp/tcnd-modified" --timeout-ms $((5000 * SLOW)) --json >"$tmp/add.json" 2>"$tmp/add.err"
rc=$?
say "devnet add --binary (modified): exit $rc: $(cat "$tmp/add.json")"
expect_eq "add of a modified binary: exit 1" "$rc" 1
expect_eq "add of a modified binary: joined false" "$(jq -r .joined "$tmp/add.json")" false
expect_eq "add prints name, api, pid, joined" "$(jq -c 'keys' "$tmp/add.json")" '["api","joined","name","pid"]'
refused node-4 measurement

# 2. Another sim platform key (another vendor signs the evidence).
grep -h 'msg="peer: up"' "$dir"/node-1.log | head -1 | grep -q "name=node-" || bad "the 'peer: up' log line names the peer (name=...)"
"$tcn" sim-platform keygen --out "$tmp/other-platform.key" >/dev/null || die "sim-platform keygen failed"
"$tcn" devnet add --dir "$dir" --platform-key "$tmp/other-platform.key" --timeout-ms $((5000 * SLOW)) --json \
  >"$tmp/add2.json" 2>"$tmp/add2.err"
rc=$?
say "devnet add --platform-key (another key): exit $rc: $(cat "$tmp/add2.json")"
expect_eq "add with another platform key: exit 1" "$rc" 1
expect_eq "add with another platform key: joined false" "$(jq -r .joined "$tmp/add2.json")" false
refused node-5 evidence

# Control: the same path admits a node that is entitled to join.
"$tcn" devnet add --dir "$dir" --timeout-ms $((15000 * SLOW)) --json >"$tmp/add3.json" 2>"$tmp/add3.err"
rc=$?
say "devnet add (the same binary, the devnet's key): exit $rc: $(cat "$tmp/add3.json")"
expect_eq "control: add of the right binary: exit 0" "$rc" 0
expect_eq "control: joined true" "$(jq -r .joined "$tmp/add3.json")" true
wait_for $((10 * SLOW)) "node-6 applied the network's state" \
  bash -c "[ \"\$(curl -sk --max-time 3 $(url node-6)/v1/status | jq -r .group_id)\" = $(jq -r .group_id "$tmp/up.json") ]"
ok "control: node-6 learned the group id"
finish
