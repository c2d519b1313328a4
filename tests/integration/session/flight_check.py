#!/usr/bin/env python3
"""The flight recorder on mlp_cpu, end to end, checked with xprof's converters.

Runs mlp_cpu with TBPROF=flight and a deliberately slow step (--slow-step K --slow-ms MS) above
TBPROF_SLOW_STEP_MS, then checks the log directory:
  - every session directory under plugins/profile holds exactly <host>.xplane.pb and
    <host>.trace.json.gz (nothing half-written, no temporary file);
  - TBPROF_FLIGHT_DUMP_AT_EXIT=1: one session was dumped by the program's exit (its note says
    "(exit)"), complete like the others;
  - one session was dumped for the slow step: its xplane carries the note
    "tbprof flight recorder dump (slow step): step K took ...";
  - in that session, xprof's overview page lists step K with a step time >= MS, and its trace
    viewer shows the "deliberately_slow" scope (>= MS) inside step K.

  $TBPROF_TEST_VENV/bin/python tests/integration/session/flight_check.py \\
      --program build/examples/mlp_cpu/mlp_cpu --workdir /tmp/flight_check

Exit status: 0 passed, 1 failed, 77 xprof cannot be imported (a skip).
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
  p.add_argument('--program', required=True)
  p.add_argument('--workdir', required=True)
  p.add_argument('--slow-step', type=int, default=8)
  p.add_argument('--slow-ms', type=int, default=2500)
  p.add_argument('--threshold-ms', type=int, default=1500)
  p.add_argument('--steps', type=int, default=12)
  args = p.parse_args()
  try:
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable with {sys.executable}: {e}')
    return SKIP

  shutil.rmtree(args.workdir, ignore_errors=True)
  logdir = os.path.join(args.workdir, 'logs')
  env = {k: v for k, v in os.environ.items() if not k.startswith('TBPROF')}
  env.update(TBPROF='flight', TBPROF_SLOW_STEP_MS=str(args.threshold_ms),
             TBPROF_FLIGHT_WINDOW_MS='60000', TBPROF_FLIGHT_DUMP_AT_EXIT='1',
             TBPROF_LOGDIR=logdir)
  run = subprocess.run([args.program, '--steps', str(args.steps), '--batch', '16',
                        '--slow-step', str(args.slow_step), '--slow-ms', str(args.slow_ms)],
                       env=env, capture_output=True, text=True, timeout=240)
  print(run.stdout + run.stderr)
  if run.returncode != 0:
    print(f'FAIL: mlp_cpu exited with {run.returncode}')
    return 1

  failures = []
  sessions = sorted(glob.glob(os.path.join(logdir, 'plugins', 'profile', '*')))
  if not sessions:
    print('FAIL: no flight recorder dump was written')
    return 1
  note = f'tbprof flight recorder dump (slow step): step {args.slow_step} took '.encode()
  slow_sessions = []
  exit_sessions = []
  for s in sessions:
    files = sorted(os.listdir(s))
    if (len(files) != 2 or not any(f.endswith('.xplane.pb') for f in files)
        or not any(f.endswith('.trace.json.gz') for f in files)):
      failures.append(f'{s}: expected one .xplane.pb and one .trace.json.gz, found {files}')
      continue
    xplane = glob.glob(os.path.join(s, '*.xplane.pb'))[0]
    with open(xplane, 'rb') as f:
      content = f.read()
    if note in content:
      slow_sessions.append((s, xplane))
    if b'tbprof flight recorder dump (exit): the program is exiting' in content:
      exit_sessions.append(s)
  print(f'{len(sessions)} dump(s); for the slow step: {[s for s, _ in slow_sessions]}')
  if not slow_sessions:
    failures.append(f'no dump carries the note for step {args.slow_step}')
  if len(exit_sessions) != 1:
    failures.append(f'expected one dump at exit, found {exit_sessions}')

  for session, xplane in slow_sessions[:1]:
    data, _ = raw_to_tool_data.xspace_to_tool_data([xplane], 'overview_page',
                                                   {'use_saved_result': False})
    tables = json.loads(data)
    tables = tables if isinstance(tables, list) else [tables]
    steps_table = next((t for t in tables if isinstance(t, dict) and
                        any(c.get('id') == 'stepTimeMs' for c in t.get('cols', []))), None)
    steps = {}
    if steps_table:
      cols = [c.get('id') for c in steps_table['cols']]
      for row in steps_table.get('rows', []):
        r = dict(zip(cols, [c.get('v') if c else None for c in row.get('c', [])]))
        steps[str(r.get('stepnum'))] = r.get('stepTimeMs') or 0
    print(f'overview_page steps (ms): {steps}')
    got = steps.get(str(args.slow_step), steps.get(f'step {args.slow_step}'))
    if got is None or got < args.slow_ms:
      failures.append(f'overview_page: step {args.slow_step} lasts {got} ms, expected >= '
                      f'{args.slow_ms}')
    data, _ = raw_to_tool_data.xspace_to_tool_data([xplane], 'trace_viewer',
                                                   {'use_saved_result': False})
    if isinstance(data, bytes):
      data = data.decode('utf-8')
    events = [e for e in json.loads(data).get('traceEvents', []) if e.get('ph') == 'X']
    slow = [e for e in events if e.get('name') == 'deliberately_slow']
    step_events = [e for e in events if e.get('name') in ('step', f'step {args.slow_step}')
                   or e.get('args', {}).get('step_num') == str(args.slow_step)]
    print(f'trace_viewer: {len(events)} events, deliberately_slow: '
          f'{[(e["ts"], e["dur"]) for e in slow]}')
    if len(slow) != 1 or slow[0]['dur'] < args.slow_ms * 1000:
      failures.append(f'trace_viewer: expected one deliberately_slow scope of >= '
                      f'{args.slow_ms} ms, got {slow}')
    elif not any(e['ts'] <= slow[0]['ts'] and
                 slow[0]['ts'] + slow[0]['dur'] <= e['ts'] + e['dur'] + 1 and
                 e['dur'] >= args.slow_ms * 1000 for e in events if e is not slow[0]):
      failures.append('trace_viewer: no enclosing step event around deliberately_slow')

  for f in failures:
    print('FAIL ' + f)
  print('all flight checks passed' if not failures else f'{len(failures)} check(s) failed')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
