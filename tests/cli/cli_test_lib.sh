# Shared helpers of the CLI test scripts (sourced, not run). The sourcing script sets $bin.
# Each helper counts a failure in $failures and keeps going, so one run reports every problem.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE CMD...: runs CMD (killed after 60 s: a hang is a failure), keeps stdout/stderr in
# $out/$err, checks the exit status.
expect() {
  local want="$1"; shift
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  out="$(cat "$tmp/out")"; err="$(cat "$tmp/err")"
  if [ "$got" != "$want" ]; then
    echo "FAIL: '$*' exited $got, expected $want"; echo "$err" | tail -5
    failures=$((failures + 1))
  fi
}
# has TEXT WHERE: WHERE ("out" or "err") of the last command contains TEXT.
has() {
  local text="$1" where="$2" content
  content="$([ "$where" = out ] && echo "$out" || echo "$err")"
  if ! grep -qF -- "$text" <<<"$content"; then
    echo "FAIL: $where of the last command lacks: $text"; failures=$((failures + 1))
  fi
}
# is TEXT WHERE: WHERE of the last command is exactly TEXT.
is() {
  local text="$1" where="$2" content
  content="$([ "$where" = out ] && echo "$out" || echo "$err")"
  if [ "$content" != "$text" ]; then
    echo "FAIL: $where is"; echo "$content"; echo "expected"; echo "$text"
    failures=$((failures + 1))
  fi
}
# absent FILE: the last command left no FILE behind.
absent() {
  if [ -e "$1" ]; then echo "FAIL: $1 was left behind"; failures=$((failures + 1)); fi
}
# lines N FILE: FILE has N lines.
lines() {
  local n; n=$(wc -l <"$2")
  [ "$n" = "$1" ] || { echo "FAIL: $2 has $n lines, expected $1"; failures=$((failures + 1)); }
}
# finish NAME: the summary line and the exit status.
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failure(s) in $1"; exit 1; fi
  echo "all $1 checks passed"
}
