#!/usr/bin/env bash
# CLI contract of tcn verify-evidence, measure and sim-platform: exit codes
# (0 accepted, 1 refused, 2 usage), the JSON fields, and no crash on any input.
set -u
bin=${TCN_BIN_DIR:?}
tcn=$bin/tcn
testdata=${TCN_TESTDATA:-${TCN_TESTDATA_DEFAULT:-}}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

. "$(dirname "$0")/lib.sh"

# Usage errors exit 2.
check 2 "no args" -- "$tcn"
check 2 "unknown command" -- "$tcn" frobnicate
check 2 "verify-evidence without FILE" -- "$tcn" verify-evidence
check 2 "bad --type" -- "$tcn" verify-evidence --type sev x
check 2 "bad --at" -- "$tcn" verify-evidence x --at yesterday
check 2 "unknown option" -- "$tcn" verify-evidence x --colour
check 2 "missing option value" -- "$tcn" verify-evidence x --at
check 2 "bad policy file" -- "$tcn" verify-evidence x --policy /nonexistent
check 0 "help" -- "$tcn" verify-evidence --help

# Sim: keygen, measure, quote, verify (accepted only when the key is named).
check 0 "keygen" -- "$tcn" sim-platform keygen --out "$tmp/k.json" --json
pk=$(jfield public_key)
check 0 "measure" -- "$tcn" measure "$bin/tcnd" --json
m=$(jfield measurement)
[ ${#m} -eq 96 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: measurement length ${#m}"; }
check 1 "measure missing file" -- "$tcn" measure "$tmp/none"
check 0 "sim quote" -- "$tcn" sim-platform quote --key "$tmp/k.json" --exe "$bin/tcnd" --report-data 00ff --out "$tmp/ev.sim"
check 1 "sim refused by default" -- "$tcn" verify-evidence "$tmp/ev.sim" --json
expect_field verified False "sim refused: verified"
expect_field error_code TCN_ERR_UNTRUSTED_ROOT "sim refused: code"
check 0 "sim accepted with key" -- "$tcn" verify-evidence "$tmp/ev.sim" --sim-platform-key "$pk" --json
expect_field tee sim "sim: tee"
expect_field measurement "$m" "sim: measurement"
expect_field verified True "sim: verified"
expect_field report_data "00ff$(printf '0%.0s' $(seq 1 124))" "sim: report_data"
printf '{"attestation":{"tee":["sim"],"sim_platform_keys":["%s"],"measurements":["%s"]}}' "$pk" "$(printf 'ab%.0s' $(seq 1 48))" >"$tmp/p.json"
check 1 "sim measurement not allowed" -- "$tcn" verify-evidence "$tmp/ev.sim" --policy "$tmp/p.json"
expect_grep "$tmp/err" "field 'measurements'" "measurement refusal names the field"
printf '{"attestation":{"tee":["sim"],"colour":1}}' >"$tmp/p2.json"
check 2 "policy with unknown field" -- "$tcn" verify-evidence "$tmp/ev.sim" --policy "$tmp/p2.json"
expect_grep "$tmp/err" "unknown field 'colour'" "config error names the field"

# Never a crash: garbage, empty, huge, truncated inputs all exit 1.
: >"$tmp/empty"; check 1 "empty file" -- "$tcn" verify-evidence "$tmp/empty" --json
expect_field error_code TCN_ERR_TRUNCATED "empty: code"
head -c 70000 /dev/urandom >"$tmp/huge"; check 1 "oversized file" -- "$tcn" verify-evidence "$tmp/huge"
for i in 1 2 3 4 5 6 7 8; do
  head -c $((i * 97)) /dev/urandom >"$tmp/rand"
  check 1 "random $i" -- "$tcn" verify-evidence "$tmp/rand"
  check 1 "random $i as sgx" -- "$tcn" verify-evidence --type sgx "$tmp/rand" --collateral "$tmp"
  check 1 "random $i as nitro" -- "$tcn" verify-evidence --type nitro "$tmp/rand"
done

if [ -d "$testdata/attestation" ]; then
  s=$testdata/attestation/sgx_dcap; n=$testdata/attestation/nitro
  check 0 "sgx phala" -- "$tcn" verify-evidence "$s/sgx_v3_phala_dcap_qvl/quote.bin" --collateral "$s/sgx_v3_phala_dcap_qvl" --at 2025-07-01T00:00:00Z --json
  expect_field tee sgx "sgx: tee"
  expect_field tcb_status ConfigurationAndSWHardeningNeeded "sgx: tcb_status"
  expect_field advisory_ids '["INTEL-SA-00289", "INTEL-SA-00615"]' "sgx: advisories"
  expect_field measurement 33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb "sgx: mrenclave"
  expect_field signer 815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6 "sgx: mrsigner"
  expect_field debug False "sgx: debug"
  expect_field timestamp None "sgx: quotes carry no time"
  check 1 "sgx phala without collateral" -- "$tcn" verify-evidence "$s/sgx_v3_phala_dcap_qvl/quote.bin" --json
  expect_field error_code TCN_ERR_COLLATERAL "no collateral: code"
  check 1 "sgx phala collateral expired" -- "$tcn" verify-evidence "$s/sgx_v3_phala_dcap_qvl/quote.bin" --collateral "$s/sgx_v3_phala_dcap_qvl" --at 2025-08-01T00:00:00Z --json
  expect_field error_code TCN_ERR_EXPIRED "expired collateral: code"
  check 1 "sgx mobilecoin PCK CRL expired" -- "$tcn" verify-evidence "$s/sgx_v3_mobilecoin/quote.bin" --collateral "$s/sgx_v3_mobilecoin" --at 2023-07-20T00:00:00Z --json
  expect_field error_code TCN_ERR_EXPIRED "mobilecoin: code"
  expect_grep "$tmp/err" "CRL" "mobilecoin: the message names the CRL"
  check 0 "tdx phala" -- "$tcn" verify-evidence "$s/tdx_v4_phala_dcap_qvl/quote.bin" --collateral "$s/tdx_v4_phala_dcap_qvl" --at 2025-07-01T00:00:00Z --json
  expect_field tee tdx "tdx: tee"
  expect_field tcb_status UpToDate "tdx: tcb_status"
  expect_field measurement 91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7 "tdx: mrtd"
  check 1 "tdx google no tcb match" -- "$tcn" verify-evidence "$s/tdx_v4_google_go_tdx_guest/quote.bin" --collateral "$s/tdx_v4_google_go_tdx_guest" --at 2023-07-01T01:00:00Z --json
  expect_field error_code TCN_ERR_NO_TCB_MATCH "google: code"
  check 1 "tdx v5 no tcb match" -- "$tcn" verify-evidence "$s/tdx_v5_td15_phala_dcap_qvl_no_tcb_match/quote.bin" --collateral "$s/tdx_v5_td15_phala_dcap_qvl_no_tcb_match" --at 2026-03-01T00:00:00Z --json
  expect_field error_code TCN_ERR_NO_TCB_MATCH "tdx v5: code"
  check 1 "sgx quote given as nitro" -- "$tcn" verify-evidence --type nitro "$s/sgx_v3_phala_dcap_qvl/quote.bin"
  check 1 "tdx quote given as sgx" -- "$tcn" verify-evidence --type sgx "$s/tdx_v4_phala_dcap_qvl/quote.bin" --collateral "$s/tdx_v4_phala_dcap_qvl" --at 2025-07-01T00:00:00Z --json
  expect_field error_code TCN_ERR_USAGE "type mismatch: code"
  check 0 "nitro blocky prod" -- "$tcn" verify-evidence "$n/blocky_prod_2024-09-07/attestation_doc.cbor" --at 2024-09-07T14:37:40Z --json
  expect_field tee nitro "nitro: tee"
  expect_field measurement e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a "nitro: pcr0"
  expect_field pcrs.1 0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d8b0c6aa "nitro: pcr1"
  expect_field timestamp 2024-09-07T14:37:39.545Z "nitro: timestamp"
  check 0 "nitro evervault prod" -- "$tcn" verify-evidence "$n/evervault_prod_2022-10-13/attestation_doc.cbor" --at 2022-10-13T08:58:03Z --json
  expect_field signer 8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb "nitro: pcr8 signer"
  check 1 "nitro debug refused" -- "$tcn" verify-evidence "$n/blocky_debug_2024-09-07/attestation_doc.cbor" --at 2024-09-07T14:38:07Z --json
  expect_field error_code TCN_ERR_DEBUG "nitro debug: code"
  check 0 "nitro debug allowed" -- "$tcn" verify-evidence "$n/blocky_debug_2024-09-07/attestation_doc.cbor" --at 2024-09-07T14:38:07Z --allow-debug --json
  check 1 "nitro without --at (now): leaf expired" -- "$tcn" verify-evidence "$n/blocky_prod_2024-09-07/attestation_doc.cbor" --json
  expect_field error_code TCN_ERR_EXPIRED "nitro expired: code"
  check 1 "nitro 4 hours later: leaf expired" -- "$tcn" verify-evidence "$n/blocky_prod_2024-09-07/attestation_doc.cbor" --at 2024-09-07T18:37:40Z
  # Truncations of a real quote and document through the CLI never crash.
  for cut in 0 1 47 48 431 432 1000 4599; do
    head -c $cut "$s/sgx_v3_phala_dcap_qvl/quote.bin" >"$tmp/cut"
    check 1 "sgx truncated to $cut" -- "$tcn" verify-evidence --type sgx "$tmp/cut" --collateral "$s/sgx_v3_phala_dcap_qvl" --at 2025-07-01T00:00:00Z
  done
  for cut in 1 10 100 1000 7538; do
    head -c $cut "$n/blocky_prod_2024-09-07/attestation_doc.cbor" >"$tmp/cut"
    check 1 "nitro truncated to $cut" -- "$tcn" verify-evidence "$tmp/cut" --at 2024-09-07T14:37:40Z
  done
else
  echo "*** SKIPPED (real-sample part): testdata not found at '$testdata' (set TCN_TESTDATA)"
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ] && exit 77 || exit 1
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
