#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/bin for SECONDS each, seeded from the
# checked-in corpus and, where present, the real evidence in shared/testdata
# (copied into a scratch corpus at run time, never into the repository).
# Crashes are kept under BUILD/fuzz-artifacts/ and fail the run.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
testdata=${TCN_TESTDATA:-$root/../shared/testdata}
export TCN_TESTDATA=$testdata
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

seed_from_testdata() { # name -> copies matching testdata files into the scratch corpus
  local name=$1 dst=$2
  [ -d "$testdata" ] || { echo "fuzz: testdata not found at $testdata (set TCN_TESTDATA); seeds from the repo only"; return; }
  case $name in
    dcap_quote) for f in "$testdata"/attestation/sgx_dcap/*/quote.bin; do cp "$f" "$dst/$(basename "$(dirname "$f")").bin"; done ;;
    nitro_doc)  for f in "$testdata"/attestation/nitro/*/attestation_doc.cbor; do cp "$f" "$dst/$(basename "$(dirname "$f")").cbor"; done ;;
    chain_tx)   [ -f "$testdata/solana/vectors.json" ] && python3 - "$testdata/solana/vectors.json" "$dst" <<'PY'
import base64, json, os, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    open(os.path.join(sys.argv[2], c["name"] + ".tx"), "wb").write(base64.b64decode(c["transaction_base64"]))
PY
                ;;
  esac
}

failed=0
shopt -s nullglob
targets=("$build"/bin/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $build/bin"; exit 1; }
for t in "${targets[@]}"; do
  name=$(basename "$t"); name=${name#fuzz_}
  corpus=$work/$name
  mkdir -p "$corpus"
  if [ -d "$root/tests/fuzz/corpus/$name" ]; then
    find "$root/tests/fuzz/corpus/$name" -type f ! -name README -exec cp {} "$corpus/" \;
  fi
  seed_from_testdata "$name" "$corpus"
  log=$work/$name.log
  echo "fuzz: $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
  if ! "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts/${name}-" "$corpus" >"$log" 2>&1; then
    echo "fuzz: $name FAILED; last lines:"; tail -n 40 "$log"; failed=1
  else
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz: $name ok: $runs executions, $cov"
  fi
done
exit $failed
