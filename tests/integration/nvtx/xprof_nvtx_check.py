#!/usr/bin/env python3
"""Checks what xprof's own converters show of a tbprof log directory: trace viewer events, their
nesting, the arrows (flow events) between threads, and framework_op_stats.

  $VENV/bin/python xprof_nvtx_check.py --logdir DIR [--event NAME]... [--nested PARENT>CHILD]...
      [--op NAME]... [--flow FROM_THREAD>TO_THREAD]

Exit status: 0 passed, 1 a check failed, 77 xprof cannot be imported (a skip), 2 no profile.
"""
import argparse
import glob
import json
import os
import sys


def main():
  p = argparse.ArgumentParser()
  p.add_argument('--logdir', required=True)
  p.add_argument('--event', action='append', default=[])
  p.add_argument('--nested', action='append', default=[])
  p.add_argument('--op', action='append', default=[])
  p.add_argument('--flow', action='append', default=[])
  p.add_argument('--min-flows', type=int, default=1)
  args = p.parse_args()
  try:
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof cannot be imported: {e}')
    return 77
  paths = sorted(glob.glob(os.path.join(args.logdir, '**', 'plugins', 'profile', '*',
                                        '*.xplane.pb'), recursive=True))
  if not paths:
    print(f'FAIL: no .xplane.pb under {args.logdir}')
    return 2
  paths = paths[-1:]
  failures = []

  def check(cond, msg):
    if not cond:
      failures.append(msg)
      print('FAIL ' + msg)

  def tool(name):
    data, _ = raw_to_tool_data.xspace_to_tool_data(paths, name, {'use_saved_result': False})
    return data.decode() if isinstance(data, bytes) else data

  # The streaming trace viewer, the one TensorBoard's Profile tab uses: arrows are flow v2
  # (complete events with "bind_id" and "flow_out" / "flow_in").
  trace = json.loads(tool('trace_viewer@'))
  events = trace.get('traceEvents', [])
  threads = {(e['pid'], e.get('tid')): e['args']['name'] for e in events
             if e.get('ph') == 'M' and e.get('name') == 'thread_name'}
  complete = [e for e in events if e.get('ph') == 'X']
  by_name = {}
  for e in complete:
    by_name.setdefault(e['name'], []).append(e)
  for name in args.event:
    check(name in by_name, f'trace_viewer: no event {name!r}')
  for spec in args.nested:
    parent, child = spec.split('>')
    ok = any(c['pid'] == q['pid'] and c['tid'] == q['tid'] and q['ts'] <= c['ts'] and
             c['ts'] + c.get('dur', 0) <= q['ts'] + q.get('dur', 0) + 1e-3
             for q in by_name.get(parent, []) for c in by_name.get(child, []))
    check(ok, f'trace_viewer: {child!r} is not nested in {parent!r}')
  # Arrows: events sharing a bind_id, from the one with flow_out to those with flow_in.
  starts = {}
  finishes = {}
  for e in complete:
    if 'bind_id' in e:
      if e.get('flow_out'):
        starts.setdefault(str(e['bind_id']), []).append(e)
      if e.get('flow_in'):
        finishes.setdefault(str(e['bind_id']), []).append(e)
  print(f'trace_viewer: {len(complete)} events, {len(starts)} flow starts, '
        f'{len(finishes)} flow ends; threads {sorted(set(threads.values()))}')
  for spec in args.flow:
    src, dst = spec.split('>')
    pairs = 0
    for fid, ss in starts.items():
      for s in ss:
        for f in finishes.get(fid, []):
          if (threads.get((s['pid'], s.get('tid'))) == src and
              threads.get((f['pid'], f.get('tid'))) == dst):
            pairs += 1
    print(f'trace_viewer: {pairs} arrow(s) from thread {src!r} to {dst!r}')
    check(pairs >= args.min_flows,
          f'trace_viewer: {pairs} arrows from {src!r} to {dst!r}, expected >= {args.min_flows}')
  if args.op:
    tables = json.loads(tool('framework_op_stats'))
    tables = tables if isinstance(tables, list) else [tables]
    ops = set()
    for t in tables:
      cols = [c.get('id') for c in t.get('cols', [])] if isinstance(t, dict) else []
      if 'operation' not in cols:
        continue
      for row in t.get('rows', []):
        r = dict(zip(cols, [c.get('v') if c else None for c in row.get('c', [])]))
        ops.add(r.get('operation'))
    print(f'framework_op_stats: {sorted(o for o in ops if o)}')
    for name in args.op:
      check(name in ops, f'framework_op_stats: no op {name!r}')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
