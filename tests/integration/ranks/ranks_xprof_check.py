#!/usr/bin/env python3
"""Checks a multi-rank tbprof session with xprof's own code: what TensorBoard's Profile tab shows.

  $TBPROF_TEST_VENV/bin/python ranks_xprof_check.py --logdir DIR --ranks N --steps S

- the profile plugin lists N hosts for the session (one per <host>_rank<k>.xplane.pb), plus
  ALL_HOSTS for the tools that aggregate, and only ALL_HOSTS for the overview page;
- framework_op_stats over all the files counts each op of every rank: the allreduce op
  (grad/Allreduce) occurs N * S times;
- overview_page over all the files lists as many steps as over one file (xprof leaves out
  the first and last step of a capture, and drops the steps hosts do not share in time).
Exit status: 0 passed, 1 a check failed, 77 xprof cannot be imported.
"""

import argparse
import glob
import json
import os
import sys


def rows(table):
  cols = [c['id'] for c in table['cols']]
  return [dict(zip(cols, [v.get('v') if isinstance(v, dict) else v for v in r['c']]))
          for r in table['rows']]


def find_table(tables, column):
  if isinstance(tables, dict):
    tables = [tables]
  for t in tables:
    if isinstance(t, dict) and any(c.get('id') == column for c in t.get('cols', [])):
      return t
  return None


def main():
  p = argparse.ArgumentParser()
  p.add_argument('--logdir', required=True)
  p.add_argument('--ranks', type=int, required=True)
  p.add_argument('--steps', type=int, required=True)
  a = p.parse_args()
  try:
    from xprof import profile_plugin  # pylint: disable=g-import-not-at-top
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable: {e}')
    return 77
  paths = sorted(glob.glob(os.path.join(a.logdir, 'plugins', 'profile', '*', '*.xplane.pb')))
  fail = []
  names = [os.path.basename(x) for x in paths]
  hosts = profile_plugin.hosts_from_xplane_filenames(names, 'trace_viewer')
  print(f'host picker (trace viewer): {hosts}')
  if len(hosts) != a.ranks or not all('_rank' in h for h in hosts):
    fail.append(f'expected {a.ranks} rank hosts, got {hosts}')
  ops_hosts = profile_plugin.hosts_from_xplane_filenames(names, 'framework_op_stats')
  if 'ALL_HOSTS' not in ops_hosts:
    fail.append(f'framework_op_stats offers no ALL_HOSTS: {ops_hosts}')
  overview_hosts = profile_plugin.hosts_from_xplane_filenames(names, 'overview_page')
  print(f'host picker (overview): {overview_hosts}')
  data, _ = raw_to_tool_data.xspace_to_tool_data(paths, 'framework_op_stats',
                                                 {'use_saved_result': False})
  table = find_table(json.loads(data), 'total_self_time')
  allreduce = [r for r in rows(table) if r.get('operation') == 'grad/Allreduce']
  n = sum(r['occurrences'] for r in allreduce)
  print(f'framework_op_stats (all hosts): grad/Allreduce occurrences {n}')
  if n != a.ranks * a.steps:
    fail.append(f'grad/Allreduce occurs {n} times, expected {a.ranks * a.steps}')
  def overview_steps(files):
    data, _ = raw_to_tool_data.xspace_to_tool_data(files, 'overview_page',
                                                   {'use_saved_result': False})
    table = find_table(json.loads(data), 'stepTimeMs')
    return rows(table) if table else []
  # xprof leaves out the first and last captured step of a host (they may be cut); the hosts'
  # steps must line up, so that all hosts together keep as many steps as one host alone.
  one = overview_steps(paths[:1])
  steps = overview_steps(paths)
  print(f'overview_page: one host {len(one)} steps; all hosts {len(steps)} steps: '
        f'{[round(s.get("stepTimeMs") or 0, 3) for s in steps]} ms')
  if len(one) < a.steps - 2 or len(steps) != len(one):
    fail.append(f'overview lists {len(steps)} steps for all hosts, {len(one)} for one, '
                f'expected {a.steps - 2} for both')
  for f in fail:
    print('FAIL ' + f)
  return 1 if fail else 0


if __name__ == '__main__':
  sys.exit(main())
