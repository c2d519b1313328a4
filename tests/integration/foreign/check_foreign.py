#!/usr/bin/env python3
"""Runs xprof (from the venv whose Python runs this) on the TensorFlow and JAX profiles of
tests/data/foreign and checks that `tbprof summary --json` finds the same steps (name and time)
and the same framework op rows, and that `tbprof validate` passes each log directory.

  $TBPROF_TEST_VENV/bin/python check_foreign.py --tbprof BIN --corpus DIR --tmp DIR

Exit status: 0 all equal, 1 a difference (each printed as a FAIL line), 77 no xprof here.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


def main():
  p = argparse.ArgumentParser()
  p.add_argument('--tbprof', required=True)
  p.add_argument('--corpus', required=True)
  p.add_argument('--tmp', required=True)
  args = p.parse_args()
  try:
    import xprof.convert.raw_to_tool_data  # noqa: F401
  except ImportError as e:
    print(f'SKIP: xprof cannot be imported: {e}')
    return SKIP
  sys.path.insert(0, args.corpus)
  import make_corpus  # The same reading of xprof's tables as the recorded expectation.

  # xprof writes caches beside the profiles: work on a copy.
  shutil.rmtree(args.tmp, ignore_errors=True)
  shutil.copytree(args.corpus, args.tmp)
  failures = []
  profiles = sorted(glob.glob(os.path.join(args.tmp, '**', '*.xplane.pb'), recursive=True))
  if not profiles:
    failures.append(f'no profile under {args.tmp}')
  for path in profiles:
    rel = os.path.relpath(path, args.tmp)
    want_steps, want_ops = [], {}
    for line in make_corpus.xprof_view(path):
      parts = line.split(' ')
      if parts[0] == 'step':
        want_steps.append((' '.join(parts[1:-1]), float(parts[-1])))
      elif parts[0] == 'op' and parts[1] != 'Dataset':
        want_ops[parts[2]] = (parts[1], int(parts[3]), float(parts[4]))
    out = subprocess.run([args.tbprof, 'summary', path, '--json', '--top', '100000'],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
      failures.append(f'{rel}: tbprof summary exited {out.returncode}: {out.stderr}')
      continue
    prof = json.loads(out.stdout)['profiles'][0]
    got_steps = [(f'{s["name"]} {s["step"]}', s['duration_us'] / 1000)
                 for s in prof['steps']['items']]
    if [n for n, _ in got_steps] != [n for n, _ in want_steps]:
      failures.append(f'{rel}: steps {got_steps} but xprof shows {want_steps}')
    else:
      for (n, got), (_, want) in zip(got_steps, want_steps):
        if abs(got - want) > 1e-3:
          failures.append(f'{rel}: step {n} lasts {got} ms, xprof says {want} ms')
    got_ops = {o['name']: (o['type'], o['count'], o['host_self_us']) for o in prof['ops']}
    if set(got_ops) != set(want_ops):
      failures.append(f'{rel}: ops {sorted(got_ops)} but xprof lists {sorted(want_ops)}')
    for name, (typ, count, self_us) in want_ops.items():
      got = got_ops.get(name)
      if got and (got[0] != typ or got[1] != count or abs(got[2] - self_us) > 0.0015):
        failures.append(f'{rel}: op {name} is {got}, xprof says {(typ, count, self_us)}')
    print(f'{rel}: {len(got_steps)} steps, {len(got_ops)} ops as xprof shows them')
  for case in sorted(os.listdir(args.tmp)):
    d = os.path.join(args.tmp, case)
    if not os.path.isdir(d) or case.startswith('__'):
      continue
    v = subprocess.run([args.tbprof, 'validate', d], capture_output=True, text=True, check=False)
    if v.returncode != 0:
      failures.append(f'{case}: tbprof validate exited {v.returncode}:\n{v.stdout}{v.stderr}')
  for f in failures:
    print('FAIL ' + f)
  print(f'{len(profiles) - len(failures) if len(failures) <= len(profiles) else 0} passed, '
        f'{len(failures)} failed')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
