#!/usr/bin/env bash
# CLI contract of tcnd --check-config (and the older --version, --measurement):
# exit codes (0 printed, 2 usage or configuration error), the printed JSON's
# fields, flags over the file, the printout read back, no secret printed.
set -u
bin=${TCN_BIN_DIR:?}
tcnd=$bin/tcnd
tcn=$bin/tcn
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

. "$(dirname "$0")/lib.sh"

# Without --check-config tcnd runs the node: it never starts on a configuration
# that is incomplete (no TEE type is assumed), and says which field is missing.
check 2 "no arguments: no TEE named" -- "$tcnd"
expect_grep_f "$tmp/err" "config: tee: required" "tee required"
check 0 "--version" -- "$tcnd" --version
expect_grep_f "$tmp/out" "tcnd " "version line"
check 0 "--measurement" -- "$tcnd" --measurement
m=$(cat "$tmp/out")
[[ $m =~ ^[0-9a-f]{96}$ ]] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: measurement '$m'"; }
check 0 "--help" -- "$tcnd" --help
expect_grep_f "$tmp/out" "--check-config" "help names --check-config"

# Defaults: only what has no default is given.
check 0 "defaults" -- "$tcnd" --check-config --tee gramine --bootstrap-expect 1
expect_empty "$tmp/err" "defaults: nothing on stderr"
expect_field name tcnd-7400 "default name"
expect_field listen_peer 127.0.0.1:7400 "default listen_peer"
expect_field listen_api 127.0.0.1:7500 "default listen_api"
expect_field join "[]" "default join"
expect_field bootstrap_expect 1 "bootstrap_expect"
expect_field standby False "default standby"
expect_field heartbeat_ms 100 "default heartbeat_ms"
expect_field election_timeout_ms 1000 "default election_timeout_ms"
expect_field replace_after_ms 10000 "default replace_after_ms"
expect_field chain_rpc http://127.0.0.1:8899 "default chain_rpc"
expect_field tee gramine "tee"
expect_field policy.tee '["sgx"]' "default policy: own TEE"
expect_field policy.measurements '["self"]' "default policy: own measurement"
expect_field log_level info "default log_level"
expect_field reattest_interval_ms 60000 "default reattest_interval_ms"
expect_field evidence_max_age_ms 180000 "default evidence_max_age_ms"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit("data_dir" in d or "sim_platform_key" in d)' "$tmp/out" \
  && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: defaults print data_dir or sim_platform_key"; }
check 0 "--check-config after the flags" -- "$tcnd" --tee nitro --join 10.0.0.9:7400 --check-config
expect_field tee nitro "flags before --check-config"
expect_field bootstrap_expect 0 "default bootstrap_expect"

# A file, and flags over it.
cat >"$tmp/a.json" <<'EOF'
{"name": "alpha", "listen_peer": "0.0.0.0:9400", "listen_api": "[::1]:9500", "advertise_peer": "10.0.0.1:9400",
 "join": ["10.0.0.2:9400", "Node-C.internal:9400"], "bootstrap_expect": 3, "standby": true,
 "heartbeat_ms": 50, "election_timeout_ms": 400, "tee": "nitro", "log_level": "debug",
 "data_dir": "/var/lib/tcnd", "reattest_interval_ms": 30000,
 "policy": {"tee": ["nitro"], "max_evidence_age_s": 600}}
EOF
check 0 "file" -- "$tcnd" --check-config --config "$tmp/a.json"
expect_field name alpha "file: name"
expect_field listen_api "[::1]:9500" "file: listen_api"
expect_field join '["10.0.0.2:9400", "node-c.internal:9400"]' "file: join (names lower-cased)"
expect_field standby True "file: standby"
expect_field election_timeout_ms 400 "file: election_timeout_ms"
expect_field data_dir /var/lib/tcnd "file: data_dir"
expect_field evidence_max_age_ms 90000 "file: evidence_max_age_ms derived from the interval"
expect_field policy.max_evidence_age_s 600 "file: inline policy"
expect_field policy.measurements '["self"]' "file: a policy without measurements accepts self only"
check 2 "bootstrap_expect 3 needs the other two in join" -- "$tcnd" --check-config --config "$tmp/a.json" --join "[fd00::2]:9400"
expect_grep_f "$tmp/err" "bootstrap_expect 3 needs exactly the other 2 bootstrap nodes" "join names the others"
check 0 "flags over the file" -- "$tcnd" --name beta --check-config --config "$tmp/a.json" --heartbeat-ms 80 --join "[fd00::2]:9400,[fd00::3]:9400"
expect_field name beta "flag: name"
expect_field heartbeat_ms 80 "flag: heartbeat_ms"
expect_field join '["[fd00::2]:9400", "[fd00::3]:9400"]' "flag: join"
expect_field election_timeout_ms 400 "file value kept"

# The printout is a config file that gives the same printout.
cp "$tmp/out" "$tmp/printed.json"
check 0 "printout read back" -- "$tcnd" --check-config --config "$tmp/printed.json"
cmp -s "$tmp/out" "$tmp/printed.json" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: printout read back differs"; diff "$tmp/printed.json" "$tmp/out" | head; }

# tee sim: the platform key is read; its public key is printed, its seed never.
check 0 "keygen" -- "$tcn" sim-platform keygen --out "$tmp/k.json" --json
pk=$(jfield public_key)
seed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seed"])' "$tmp/k.json")
check 0 "sim" -- "$tcnd" --check-config --tee sim --sim-platform-key "$tmp/k.json" --bootstrap-expect 1
expect_field tee sim "sim: tee"
expect_field sim_platform_key "$tmp/k.json" "sim: key path"
expect_field policy.tee '["sim"]' "sim: policy tee"
expect_field policy.sim_platform_keys.0 "$pk" "sim: platform public key accepted"
if grep -q -- "$seed" "$tmp/out" "$tmp/err"; then fail=$((fail+1)); echo "FAIL: the sim key's seed was printed"; else pass=$((pass+1)); fi
check 2 "sim without key" -- "$tcnd" --check-config --tee sim --bootstrap-expect 1
expect_grep_f "$tmp/err" "config: sim_platform_key: required with tee sim" "sim: key required"
check 2 "sim key missing" -- "$tcnd" --check-config --tee sim --sim-platform-key "$tmp/none.json" --bootstrap-expect 1
expect_grep_f "$tmp/err" "config: sim_platform_key: " "sim: missing key file named"

# Refusals: exit 2, one precise line on stderr, nothing on stdout.
check 2 "no tee" -- "$tcnd" --check-config
expect_grep_f "$tmp/err" "tcnd: config: tee: required" "tee required"
expect_empty "$tmp/out" "refusal: stdout empty"
check 2 "heartbeat 0" -- "$tcnd" --check-config --tee nitro --bootstrap-expect 1 --heartbeat-ms 0
expect_grep_f "$tmp/err" "tcnd: config: --heartbeat-ms: 0 is below the minimum 5" "flag range"
check 2 "election below 5 heartbeats" -- "$tcnd" --check-config --tee nitro --bootstrap-expect 1 --heartbeat-ms 300
expect_grep_f "$tmp/err" "config: election_timeout_ms: 1000 is below 5 times heartbeat_ms (1500)" "cross-field"
printf '{"tee":"nitro","bootstrap_expect":1,"heartbeat_ms":0}' >"$tmp/b.json"
check 2 "file range" -- "$tcnd" --check-config --config "$tmp/b.json"
expect_grep_f "$tmp/err" "tcnd: config: heartbeat_ms: 0 is below the minimum 5" "file range"
printf '{"tee":"nitro","colour":"red"}' >"$tmp/c.json"
check 2 "unknown field" -- "$tcnd" --check-config --config "$tmp/c.json"
expect_grep_f "$tmp/err" "config: unknown field 'colour'" "unknown field named"
printf '{"tee":"nitro",' >"$tmp/d.json"
check 2 "bad JSON" -- "$tcnd" --check-config --config "$tmp/d.json"
expect_grep_f "$tmp/err" "config: line 1" "JSON error located"
check 2 "missing file" -- "$tcnd" --check-config --config "$tmp/none.json"
expect_grep_f "$tmp/err" "none.json" "missing file named"
check 2 "listen on a name" -- "$tcnd" --check-config --tee nitro --bootstrap-expect 1 --listen-peer localhost:7400
expect_grep_f "$tmp/err" "host names are not allowed here" "listen address must be an IP"
check 2 "unknown option" -- "$tcnd" --check-config --colour red
expect_grep_f "$tmp/err" "unknown option '--colour'" "unknown option named"
expect_grep_f "$tmp/err" "usage:" "usage shown"
check 2 "missing value" -- "$tcnd" --check-config --tee
expect_grep_f "$tmp/err" "option --tee needs a value" "missing value"
check 2 "flag twice" -- "$tcnd" --check-config --tee nitro --tee gramine
expect_grep_f "$tmp/err" "option --tee given twice" "flag twice"
check 2 "no --check-config, nothing to join" -- "$tcnd" --tee nitro
expect_grep_f "$tmp/err" "config: join: empty" "join or bootstrap_expect required"

# Garbage never crashes: every file is refused with exit 2.
for i in 1 2 3 4 5 6 7 8; do
  head -c $((i * 37)) /dev/urandom >"$tmp/g$i.json"
  check 2 "garbage $i" -- "$tcnd" --check-config --config "$tmp/g$i.json"
done
for j in '[]' '"x"' 'null' '{"join":[[]]}' '{"policy":{"tee":[]}}' '{"tee":"nitro","join":["a:1"],"policy":{"tee":["nitro"],"min_svn":-1}}'; do
  printf '%s' "$j" >"$tmp/j.json"
  check 2 "refused: $j" -- "$tcnd" --check-config --config "$tmp/j.json"
done

echo "tcnd config CLI: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
