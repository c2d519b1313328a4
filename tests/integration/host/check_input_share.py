#!/usr/bin/env python3
"""Checks that xprof reports the input share a tbprof profile really has.

Run it with the Python of the virtual environment that has xprof ($TBPROF_TEST_VENV):

  $TBPROF_TEST_VENV/bin/python tests/integration/host/check_input_share.py --logdir DIR \
      [--min-share PCT] [--tolerance PP] [--expect-input-op NAME]

The measured share comes from the trace itself, tbprof's Chrome trace (<host>.trace.json.gz):
the time of the input waits (events named "IteratorGetNext/...", what TBPROF_INPUT_WAIT
records) on a step's thread inside each step event ("step N"), over the steps xprof lists (it
may leave out an incomplete first or last step): summed and divided by the summed step time
(what xprof's conclusion computes), and per step.

xprof's converters must agree within --tolerance percentage points (default 5):
  - overview_page: the "% of the total step time sampled is waiting for input" of its input
    conclusion against the summed share, the mean of Input / Step time over its step-time graph
    against the mean of the per-step shares, and each step's Input / Step time against that
    step's own wait share;
  - input_pipeline_analyzer: the same conclusion and step-time graph, and (with
    --expect-input-op) the host-side input-op table lists NAME.
--min-share (default 20) guards the test itself: a profile whose steps hardly wait proves
nothing, so a measured share below it fails.

Exit status: 0 all checks passed, 1 a check failed, 2 bad arguments or no session found,
77 xprof cannot be imported here (callers treat it as a skip).
"""

import argparse
import glob
import gzip
import json
import os
import re
import sys

SKIP = 77
WAIT_PREFIX = 'IteratorGetNext/'


def table_rows(table):
  cols = [c.get('id') for c in table.get('cols', [])]
  return [dict(zip(cols, [c.get('v') if c else None for c in row.get('c', [])]))
          for row in table.get('rows', [])]


def find_table(tables, column):
  for t in tables if isinstance(tables, list) else [tables]:
    if isinstance(t, dict) and any(c.get('id') == column for c in t.get('cols', [])):
      return t
  return None


def measured_shares(trace_path):
  """{step name: (step ms, wait ms)} from the Chrome trace."""
  with gzip.open(trace_path, 'rt') as f:
    doc = json.load(f)
  events = doc['traceEvents'] if isinstance(doc, dict) else doc
  spans = [e for e in events if e.get('ph') == 'X' and 'dur' in e]
  steps = [e for e in spans if re.fullmatch(r'step \d+', e.get('name', ''))]
  waits = [e for e in spans if e.get('name', '').startswith(WAIT_PREFIX)]
  result = {}
  for s in steps:
    begin, end = s['ts'], s['ts'] + s['dur']
    wait = 0.0
    for w in waits:
      if (w.get('pid'), w.get('tid')) != (s.get('pid'), s.get('tid')):
        continue
      wait += max(0.0, min(end, w['ts'] + w['dur']) - max(begin, w['ts']))
    result[s['name']] = (s['dur'] / 1000.0, wait / 1000.0)
  return result


def conclusion_percent(table):
  text = (table.get('p') or {}).get('input_conclusion', '')
  m = re.search(r'([0-9.]+)% of the total step time sampled is waiting for input', text)
  return (float(m.group(1)) if m else None), text


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--logdir', required=True)
  parser.add_argument('--min-share', type=float, default=20.0)
  parser.add_argument('--tolerance', type=float, default=5.0)
  parser.add_argument('--expect-input-op', action='append', default=[])
  args = parser.parse_args()
  try:
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable with {sys.executable}: {e}')
    return SKIP

  xplanes = sorted(glob.glob(os.path.join(args.logdir, '**', 'plugins', 'profile', '*',
                                          '*.xplane.pb'), recursive=True))
  traces = sorted(glob.glob(os.path.join(args.logdir, '**', 'plugins', 'profile', '*',
                                         '*.trace.json.gz'), recursive=True))
  if len(xplanes) != 1 or len(traces) != 1:
    print(f'FAIL expected one profile session with one xplane and one Chrome trace under '
          f'{args.logdir}, found {xplanes} and {traces}')
    return 2
  measured = measured_shares(traces[0])
  failures = []

  def check(cond, message):
    if not cond:
      failures.append(message)
      print('FAIL ' + message)

  for tool in ('overview_page', 'input_pipeline_analyzer'):
    data, _ = raw_to_tool_data.xspace_to_tool_data(xplanes, tool, {'use_saved_result': False})
    if isinstance(data, bytes):
      data = data.decode('utf-8')
    if not data:
      check(False, f'{tool}: no data')
      continue
    tables = json.loads(data)
    steps_table = find_table(tables, 'stepTimeMs')
    if steps_table is None:
      check(False, f'{tool}: no step-time graph')
      continue
    rows = table_rows(steps_table)
    listed = [r.get('stepnum') for r in rows]
    missing = [s for s in listed if s not in measured]
    check(not missing, f'{tool}: steps {missing} are not in the Chrome trace')
    shares = [100.0 * measured[s][1] / measured[s][0] for s in listed if s in measured]
    if not shares:
      check(False, f'{tool}: no step to compare')
      continue
    want = sum(shares) / len(shares)
    total = 100.0 * (sum(measured[s][1] for s in listed if s in measured) /
                     sum(measured[s][0] for s in listed if s in measured))
    graph = [100.0 * (r.get('infeedTimeMs') or 0) / r['stepTimeMs'] for r in rows
             if r.get('stepTimeMs')]
    graph_mean = sum(graph) / len(graph) if graph else 0.0
    said, text = conclusion_percent(steps_table)
    print(f'{tool}: {len(rows)} steps; measured wait share {total:.1f}% of the summed step '
          f'time, per step {", ".join(f"{x:.1f}" for x in shares)} (mean {want:.1f}%); '
          f'step-time graph input mean {graph_mean:.1f}%; conclusion {said}%: {text!r}')
    check(total >= args.min_share,
          f'{tool}: the steps waited only {total:.1f}% of their time for input (< '
          f'{args.min_share}%): the profile cannot show whether input is recognised')
    check(said is not None, f'{tool}: no input percentage in the conclusion {text!r}')
    if said is not None:
      check(abs(said - total) <= args.tolerance,
            f'{tool}: the conclusion says {said}% waiting for input, the trace has '
            f'{total:.1f}% (tolerance {args.tolerance} points)')
    check(abs(graph_mean - want) <= args.tolerance,
          f'{tool}: the step-time graph has {graph_mean:.1f}% input on average, the trace\'s '
          f'steps {want:.1f}% (tolerance {args.tolerance} points)')
    for r in rows:
      name = r.get('stepnum')
      if name in measured and r.get('stepTimeMs'):
        got = 100.0 * (r.get('infeedTimeMs') or 0) / r['stepTimeMs']
        had = 100.0 * measured[name][1] / measured[name][0]
        check(abs(got - had) <= args.tolerance,
              f'{tool}: {name}: {got:.1f}% input in the step-time graph, {had:.1f}% waiting '
              f'in the trace')
    if tool == 'input_pipeline_analyzer':
      ops_table = find_table(tables, 'opName')
      ops = table_rows(ops_table) if ops_table else []
      print(f'{tool}: input ops {[(o.get("opName"), o.get("category")) for o in ops]}')
      for name in args.expect_input_op:
        check(any(o.get('opName') == name for o in ops),
              f'{tool}: the host-side input-op table lacks {name}')
  print(f'{len(failures)} check(s) failed' if failures else 'all input-share checks passed')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
