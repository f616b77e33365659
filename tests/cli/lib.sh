# Helpers shared by the CLI contract tests (sourced; needs $tmp, and pass/fail counters set to 0).
# check WANT_RC NAME -- cmd...: runs cmd, stdout in $tmp/out, stderr in $tmp/err, counts a pass when
# its exit code is WANT_RC; the expect_* helpers count a pass or a failure, and say why on failure.

check() { # check WANT_RC NAME -- cmd...
  local want=$1 name=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL: $name: exit $rc, want $want"; sed 's/^/  out: /' "$tmp/out" | head -5; sed 's/^/  err: /' "$tmp/err" | head -5; fi
}
jfield() { # jfield KEY [FILE]: a field (dotted path; list indexes as numbers) of the JSON object in FILE (default $tmp/out)
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split("."): v=v[k] if not isinstance(v,list) else v[int(k)]
print(v if not isinstance(v,(list,dict)) else json.dumps(v))' "${2:-$tmp/out}" "$1"; }
expect_field() { # expect_field KEY VALUE NAME
  local got; got=$(jfield "$1" 2>/dev/null)
  if [ "$got" = "$2" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $3: $1 = '$got', want '$2'"; fi
}
expect_grep() { # expect_grep FILE REGEX NAME
  if grep -q -- "$2" "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $3: '$2' not in $(basename "$1")"; sed 's/^/  /' "$1" | head -3; fi
}
expect_grep_f() { # expect_grep_f FILE STRING NAME (a fixed string)
  if grep -qF -- "$2" "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $3: '$2' not in $(basename "$1")"; sed 's/^/  /' "$1" | head -3; fi
}
expect_empty() { # expect_empty FILE NAME
  if [ ! -s "$1" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2: $(basename "$1") not empty"; head -3 "$1"; fi
}
