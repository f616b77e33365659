#!/usr/bin/env bash
# make demo: first the network itself — `tcn devnet demo`: a ledger and 3
# tcnd processes on 127.0.0.1 with the simulated TEE, swaps and refunds, a
# burst of payouts, the leader killed with kill -9 in the middle of it, and
# every payout and refund checked on the ledger. Then the attestation layer
# on real evidence: sim evidence for build/bin/tcnd verified under a policy,
# a modified binary refused, the real SGX, TDX and Nitro samples in
# shared/testdata verified with their claims printed. Then the payout
# protocol in the deterministic simulator, with a deliberately broken
# executor that the checkers catch. Exits non-zero if any verdict is not the
# expected one.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TCN_BIN_DIR:-$root/build/bin}
tcn=$bin/tcn
testdata=${TCN_TESTDATA:-$root/../shared/testdata}
out=$root/demo-out
rm -rf "$out"; mkdir -p "$out"
bad=0

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect() { # expect 0|1 description -- command...
  local want=$1 what=$2; shift 3
  "$@"; local rc=$?
  if [ "$rc" -eq "$want" ]; then echo "   -> as expected ($what)"; else echo "   -> UNEXPECTED exit $rc ($what)"; bad=1; fi
}

step "A. The network: 3 coordinators on this machine, the leader killed during a payout burst"
"$tcn" devnet demo --dir "$out/devnet"; rc=$?
if [ "$rc" -eq 0 ]; then echo "   -> as expected (logs of every process in $out/devnet)"; else echo "   -> UNEXPECTED exit $rc (logs in $out/devnet)"; bad=1; fi

step "B. The attestation layer, step by step, on sim evidence and on real SGX, TDX and Nitro evidence"
step "1. A sim platform key (it plays the TEE vendor's role; development only)"
"$tcn" sim-platform keygen --out "$out/platform.key" || exit 1
pk=$("$tcn" sim-platform pubkey "$out/platform.key")

step "2. The sim measurement of tcnd: SHA-384 of the executable"
m=$("$tcn" measure "$bin/tcnd"); echo "$m"
[ "$m" = "$("$bin/tcnd" --measurement)" ] && echo "   -> tcnd measures itself the same way" || { echo "   -> MISMATCH"; bad=1; }

step "3. Sim evidence for tcnd, binding 64 bytes of report data"
rd=$(printf 'tcn demo report data' | sha512sum | cut -d' ' -f1)
"$tcn" sim-platform quote --key "$out/platform.key" --exe "$bin/tcnd" --report-data "$rd" --out "$out/tcnd.sim" || exit 1

cat >"$out/policy.json" <<JSON
{"attestation": {"tee": ["sim"], "sim_platform_keys": ["$pk"], "measurements": ["$m"], "max_evidence_age_s": 600}}
JSON
step "4. Verify it under a policy that names the platform key and tcnd's measurement"
expect 0 "accepted" -- "$tcn" verify-evidence "$out/tcnd.sim" --policy "$out/policy.json"

step "5. Without the policy, sim evidence is never accepted"
expect 1 "refused: sim needs an explicit opt-in" -- "$tcn" verify-evidence "$out/tcnd.sim"

step "6. A modified tcnd gets another measurement and is refused"
cp "$bin/tcnd" "$out/tcnd-modified"; printf 'x' >>"$out/tcnd-modified"
"$tcn" sim-platform quote --key "$out/platform.key" --exe "$out/tcnd-modified" --report-data "$rd" --out "$out/modified.sim" >/dev/null
expect 1 "refused: measurement not allowed" -- "$tcn" verify-evidence "$out/modified.sim" --policy "$out/policy.json"

if [ ! -d "$testdata/attestation" ]; then
  printf '\n*** SKIPPED: real SGX/TDX/Nitro samples not found at %s (set TCN_TESTDATA)\n' "$testdata"
  exit $bad
fi
s=$testdata/attestation/sgx_dcap
n=$testdata/attestation/nitro

step "7. Real Intel SGX quote (v3) with Intel's collateral, at 2025-07-01"
expect 0 "ConfigurationAndSWHardeningNeeded" -- "$tcn" verify-evidence "$s/sgx_v3_phala_dcap_qvl/quote.bin" \
  --collateral "$s/sgx_v3_phala_dcap_qvl" --at 2025-07-01T00:00:00Z
step "8. Real Intel TDX quote (v4), at 2025-07-01"
expect 0 "UpToDate" -- "$tcn" verify-evidence "$s/tdx_v4_phala_dcap_qvl/quote.bin" \
  --collateral "$s/tdx_v4_phala_dcap_qvl" --at 2025-07-01T00:00:00Z
step "9. Real SGX quote whose PCK CRL had expired at the verification time"
expect 1 "refused: PCK CRL expired" -- "$tcn" verify-evidence "$s/sgx_v3_mobilecoin/quote.bin" \
  --collateral "$s/sgx_v3_mobilecoin" --at 2023-07-20T00:00:00Z
step "10. Real TDX quote below every TCB level Intel lists"
expect 1 "refused: no matching TCB level" -- "$tcn" verify-evidence "$s/tdx_v5_td15_phala_dcap_qvl_no_tcb_match/quote.bin" \
  --collateral "$s/tdx_v5_td15_phala_dcap_qvl_no_tcb_match" --at 2026-03-01T00:00:00Z
step "11. Real AWS Nitro attestation document, one second after it was issued"
expect 0 "accepted" -- "$tcn" verify-evidence "$n/blocky_prod_2024-09-07/attestation_doc.cbor" --at 2024-09-07T14:37:40Z
step "11b. The same document today: its certificate lived three hours"
expect 1 "refused: certificate expired" -- "$tcn" verify-evidence "$n/blocky_prod_2024-09-07/attestation_doc.cbor"
step "12. Real Nitro document from a debug enclave (PCR0 all zero)"
expect 1 "refused: debug enclave" -- "$tcn" verify-evidence "$n/evervault_debug_2023-09-18/attestation_doc.cbor" --at 2023-09-18T15:03:31Z
expect 0 "accepted with --allow-debug" -- "$tcn" verify-evidence "$n/evervault_debug_2023-09-18/attestation_doc.cbor" --at 2023-09-18T15:03:31Z --allow-debug --json

step "C. The payout protocol in the deterministic simulator (one process: simulated network, clocks and chain)"
step "13. The payout protocol: 3 coordinators in the deterministic simulator, leaders crashing mid-payout"
sim=$bin/tcn-sim
"$sim" --seed 11 --steps 6000 --nodes 3 --workload payouts >"$out/payouts.txt" 2>&1; rc=$?
grep -E "^(liveness|payouts|stats):" "$out/payouts.txt" | sed 's/^/   /' | cut -c1-240
if [ "$rc" -eq 0 ] && tail -n 1 "$out/payouts.txt" | grep -q "violations=0$"; then
  echo "   -> as expected: every due payout landed exactly once, every refund stayed valid ($(tail -n 1 "$out/payouts.txt"))"
else
  echo "   -> UNEXPECTED exit $rc"; tail -n 3 "$out/payouts.txt"; bad=1
fi
step "14. The same run with an executor that sends payout bytes before their intent commits"
"$sim" --seed 11 --steps 6000 --nodes 3 --workload payouts --bug release_before_commit >"$out/payouts-bug.txt" 2>&1; rc=$?
grep -E "^VIOLATION:" "$out/payouts-bug.txt" | sed 's/^/   /' | cut -c1-240
if [ "$rc" -eq 1 ]; then echo "   -> as expected: the checker caught it"; else echo "   -> UNEXPECTED exit $rc"; bad=1; fi

echo
if [ $bad -eq 0 ]; then echo "demo: every verdict as expected"; else echo "demo: SOME VERDICTS WERE NOT AS EXPECTED"; fi
exit $bad
