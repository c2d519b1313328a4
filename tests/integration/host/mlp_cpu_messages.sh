#!/bin/sh
# The status lines of the mlp_cpu example say what it does: TBPROF spellings the library accepts
# are not called "tracing is off", and a TBPROF_STEPS range the run never reaches (or cannot be
# parsed) is not promised to be written at exit.
# Usage: mlp_cpu_messages.sh WORKDIR MLP_CPU
set -u
work=$1
mlp=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
fail=0
check() {  # check NAME EXPECT(yes|no) PATTERN FILE
  if grep -q -- "$3" "$4"; then found=yes; else found=no; fi
  if [ "$found" != "$2" ]; then
    echo "FAIL $1: expected '$3' present=$2 in:"; cat "$4"; fail=1
  fi
}

TBPROF=true TBPROF_STEPS=20:30 TBPROF_GPU=off "$mlp" --steps 3 --batch 8 --logdir "$work/a" \
  >"$work/a.out" 2>&1
check "TBPROF=true traces" no "tracing is off" "$work/a.out"
check "range never reached" no "written when the program exits" "$work/a.out"
check "range never reached" yes "nothing captured: TBPROF_STEPS=20:30 starts after the last step (2)" "$work/a.out"
[ -d "$work/a/plugins" ] && { echo "FAIL: a profile was written for steps never reached"; fail=1; }

TBPROF=1 TBPROF_STEPS=bogus TBPROF_GPU=off "$mlp" --steps 2 --batch 8 --logdir "$work/b" \
  >"$work/b.out" 2>&1
check "invalid range" no "written when the program exits" "$work/b.out"
check "invalid range" yes "nothing captured: TBPROF_STEPS=bogus is not valid" "$work/b.out"

TBPROF=1 TBPROF_STEPS=1:20 TBPROF_GPU=off "$mlp" --steps 3 --batch 8 --logdir "$work/c" \
  >"$work/c.out" 2>&1
check "range past the end" yes "steps 1..2 are written when the program exits" "$work/c.out"
ls "$work"/c/plugins/profile/*/*.xplane.pb >/dev/null 2>&1 ||
  { echo "FAIL: the capture promised at exit was not written"; cat "$work/c.out"; fail=1; }
[ "$fail" = 0 ] && echo "mlp_cpu messages: OK"
exit $fail
