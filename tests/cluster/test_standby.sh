#!/usr/bin/env bash
# A standby (tcnd --standby, DESIGN §6: the seed's TEE_3) votes but hands
# leadership to a healthy, caught-up voter whenever it finds itself leading.
# 1. A standby joins a 3-node network as a learner and, once a follower is
#    killed, replaces it as a voter after replace_after_ms.
# 2. Leadership is handed to the standby on purpose (`tcn cluster transfer`):
#    within a few election timeouts another voter leads again, and the
#    standby's log says it handed leadership over.
# 3. Writes sent to the standby still succeed (redirected to the leader).
. "$(dirname "$0")/lib.sh"
cl_deadline $((120 * SLOW))

RA=$((3000 * SLOW))
devnet_up --nodes 3 --replace-after-ms "$RA"
wait_leader $((10 * SLOW))
say "leader $leader"

"$tcn" devnet add --standby --dir "$dir" --timeout-ms $((15000 * SLOW)) --json >"$tmp/add.json" 2>"$tmp/add.err"
expect_eq "the standby joined" "$(jq -r .joined "$tmp/add.json" 2>/dev/null)" true
sb=$(jq -r .name "$tmp/add.json")
sb_id=$(status "$sb" | jq -r .node_id)
say "standby $sb ($sb_id)"

# A follower dies: the standby takes its place as a voter.
victim=$(names | grep -vx "$leader" | grep -vx "$sb" | head -n 1)
kill -KILL "$(pid_of "$victim")"
say "kill -9 $victim"
mapfile -t alive < <(names | grep -vx "$victim")
sb_voter() { status "$leader" | jq -e --arg id "$sb_id" '.members[] | select(.node_id==$id and .role!="learner")' >/dev/null; }
expect_within $((RA / 1000 + 10 * SLOW)) "the standby became a voter after replace_after_ms" sb_voter

# Leadership handed to the standby: it hands it on.
"$tcn" cluster transfer --dir "$dir" --node "$(url "$leader")" --to "$sb_id" --json >"$tmp/tr.json" 2>&1
expect_eq "transfer to the standby started" "$(jq -r .result "$tmp/tr.json" 2>/dev/null)" started
other_leads() { local l; l=$(agreed_leader "${alive[@]}") && [ "$l" != "$sb" ]; }
expect_within $((5 * SLOW)) "another voter leads again" other_leads
expect "the standby handed leadership over" grep -q 'standby: handing leadership over' "$dir/$sb.log"
expect_eq "the standby follows" "$(status "$sb" | jq -r .role)" follower

# Writes through the standby reach the leader.
pk=$(newkey user1)
"$tcn" client add --dir "$dir" --node "$(url "$sb")" --pubkey "$pk" --role user --json >"$tmp/ca.json" 2>&1
expect_eq "a write sent to the standby is applied (via the leader)" "$(jq -r .role "$tmp/ca.json" 2>/dev/null)" user

finish
