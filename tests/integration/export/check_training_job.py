#!/usr/bin/env python3
"""Checks what xprof's overview page says about "Is training job" for each profile session.

  $TBPROF_TEST_VENV/bin/python tests/integration/export/check_training_job.py --logdir DIR \
      --expect SUFFIX=true|false [--expect ...]

Every profile session directory DIR/**/plugins/profile/<session>/ whose name ends with SUFFIX
(e.g. "model_training") must exist, and the overview_page converter must report its run
environment's is_training as the expected value. The tool list of a training session offers
the HLO tools xprof adds for the marker module (graph_viewer, memory_viewer).

Exit status: 0 all checks passed, 1 a check failed, 2 bad arguments or a session missing,
77 xprof cannot be imported here (callers treat it as a skip).
"""

import argparse
import glob
import json
import os
import sys

SKIP = 77


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--logdir', required=True)
  parser.add_argument('--expect', action='append', default=[], required=True)
  args = parser.parse_args()
  try:
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable with {sys.executable}: {e}')
    return SKIP
  sessions = sorted(set(os.path.dirname(p) for p in glob.glob(
      os.path.join(args.logdir, '**', 'plugins', 'profile', '*', '*.xplane.pb'), recursive=True)))
  failures = 0
  for spec in args.expect:
    suffix, _, want = spec.partition('=')
    if want not in ('true', 'false'):
      print(f'FAIL bad --expect {spec!r}: SUFFIX=true or SUFFIX=false')
      return 2
    found = [s for s in sessions if s.endswith(suffix)]
    if len(found) != 1:
      print(f'FAIL expected one session ending with {suffix!r}, found {found} in {sessions}')
      return 2
    paths = sorted(glob.glob(os.path.join(found[0], '*.xplane.pb')))
    data, _ = raw_to_tool_data.xspace_to_tool_data(paths, 'overview_page',
                                                   {'use_saved_result': False})
    if isinstance(data, bytes):
      data = data.decode('utf-8')
    env = next((t.get('p', {}) for t in json.loads(data or '[]')
                if isinstance(t, dict) and 'is_training' in t.get('p', {})), None)
    got = None if env is None else env.get('is_training')
    tools = raw_to_tool_data.xspace_to_tool_names(paths)
    print(f'{os.path.basename(found[0])}: overview is_training={got!r} (expected {want}); '
          f'tools {tools}')
    if got != want:
      print(f'FAIL {found[0]}: overview_page says is_training={got!r}, expected {want!r}')
      failures += 1
    if want == 'true' and 'graph_viewer' not in tools:
      print(f'FAIL {found[0]}: no graph_viewer in the tool list: xprof found no HLO module')
      failures += 1
  print(f'{failures} check(s) failed' if failures else 'all training-job checks passed')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
