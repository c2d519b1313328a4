#!/usr/bin/env python3
"""Checks a tbprof log directory with xprof's own converters: what TensorBoard's Profile tab shows.

Run it with the Python of a virtual environment that has xprof installed (scripts/venv.sh):

  $TBPROF_TEST_VENV/bin/python tests/integration/export/xprof_check.py --logdir DIR [flags]

Flags:
  --logdir DIR         The directory given to `tensorboard --logdir`. Every session directory
                       DIR/**/plugins/profile/<session>/ holding *.xplane.pb is checked.
  --expect-gpu         The capture has GPU work: tool list offers kernel_stats; the trace viewer
                       has a /device:GPU:<n> process with events; kernel_stats lists kernels with
                       launch shapes (grid/block) and at least one with its framework op name;
                       framework_op_stats has device ops; every step has device compute time.
  --min-steps N        The overview page's step-time graph lists at least N steps, each with a
                       step time > 0 (default 1; 0 skips the step check).
  --expect-thread NAME The trace viewer shows a host thread named NAME (repeatable).
  --expect-op SPEC     framework_op_stats lists a host op: SPEC is "NAME" (the op name without
                       its type, e.g. dense_1/MatMul), "NAME=SELF_US" (its total host self time
                       in us, within 1%), or "NAME=SELF_US/TOTAL_US" (repeatable).
  --expect-op-args NAME
                       The classic trace viewer's events of host op NAME (without its type) carry
                       its tensors as args (the Details pane): inputs, outputs (dtype[shape]),
                       output_bytes > 0 and long_name (repeatable).
  --expect-step-ms MS  Every step of the step-time graph lasts MS milliseconds (within 1%).
  --expect-device-op NAME=TOTAL_US
                       framework_op_stats lists a device op NAME (without its type) whose total
                       device time is TOTAL_US microseconds (within 0.01 us; repeatable).
  --expect-kernel SPEC kernel_stats has a row matching SPEC, "key=value" pairs joined by ';':
                       name=KERNEL (required), op=OP_NAME, grid=X,Y,Z, block=X,Y,Z, regs=N,
                       n=OCCURRENCES, us=TOTAL_US (within 0.01 us). Repeatable.
  --expect-step-device COMPUTE_MS[/INPUT_MS/OUTPUT_MS]
                       Every step of the step-time graph has COMPUTE_MS of device compute and,
                       when given, INPUT_MS of host-to-device and OUTPUT_MS of device-to-host
                       copies (each within 0.0001 ms).
  --verbose            Show xprof's own log output (hidden unless a check fails).

A <host>.trace.json.gz next to the xplane (Chrome trace) must gunzip and parse as JSON.

Every check that fails prints one line starting with "FAIL"; a summary of what each tool shows is
printed either way. Exit status: 0 all checks passed, 1 a check failed, 77 xprof cannot be
imported here (callers treat it as a skip), 2 bad arguments or no session found.
"""

import argparse
import glob
import gzip
import json
import os
import sys
import tempfile

SKIP = 77


class Checker:
  """Collects failures instead of stopping at the first."""

  def __init__(self):
    self.failures = []

  def check(self, cond, message):
    if not cond:
      self.failures.append(message)
      print('FAIL ' + message)
    return cond


class CapturedStderr:
  """Redirects fd 2 (xprof's C++ logging) to a temporary file while active."""

  def __init__(self, enabled):
    self.enabled = enabled
    self.text = ''

  def __enter__(self):
    if self.enabled:
      sys.stderr.flush()
      self.tmp = tempfile.TemporaryFile(mode='w+b')
      self.saved = os.dup(2)
      os.dup2(self.tmp.fileno(), 2)
    return self

  def __exit__(self, *exc):
    if self.enabled:
      sys.stderr.flush()
      os.dup2(self.saved, 2)
      os.close(self.saved)
      self.tmp.seek(0)
      self.text = self.tmp.read().decode('utf-8', 'replace')
      self.tmp.close()
    return False


def table_rows(table):
  """A Google DataTable ({cols, rows}) as a list of {column id: value} dicts."""
  cols = [c.get('id') for c in table.get('cols', [])]
  return [dict(zip(cols, [c.get('v') if c else None for c in row.get('c', [])]))
          for row in table.get('rows', [])]


def find_table(tables, column):
  """The first DataTable in `tables` having a column with id `column`."""
  if isinstance(tables, dict):
    tables = [tables]
  for t in tables:
    if isinstance(t, dict) and any(c.get('id') == column for c in t.get('cols', [])):
      return t
  return None


def sessions(logdir):
  """Session directories under logdir holding at least one .xplane.pb, sorted."""
  found = set()
  for path in glob.glob(os.path.join(logdir, '**', 'plugins', 'profile', '*', '*.xplane.pb'),
                        recursive=True):
    found.add(os.path.dirname(path))
  return sorted(found)


def run_tool(raw_to_tool_data, paths, tool):
  data, _ = raw_to_tool_data.xspace_to_tool_data(paths, tool, {'use_saved_result': False})
  if data is None:
    return None
  if isinstance(data, bytes):
    data = data.decode('utf-8')
  return data


def check_trace_viewer(c, r, paths, args):
  # The streaming viewer TensorBoard uses ("trace_viewer@") and the classic JSON one.
  for tool in ('trace_viewer@', 'trace_viewer'):
    data = run_tool(r, paths, tool)
    if not c.check(data, f'{tool}: no data'):
      continue
    trace = json.loads(data)
    events = trace.get('traceEvents', [])
    processes = {e['pid']: e['args']['name'] for e in events
                 if e.get('ph') == 'M' and e.get('name') == 'process_name'}
    threads = {(e['pid'], e.get('tid')): e['args']['name'] for e in events
               if e.get('ph') == 'M' and e.get('name') == 'thread_name'}
    complete = [e for e in events if e.get('ph') == 'X']
    host_pids = [p for p, n in processes.items() if n.endswith('/host:CPU')]
    gpu_pids = [p for p, n in processes.items() if '/device:GPU:' in n]
    host_events = [e for e in complete if e.get('pid') in host_pids]
    host_threads = sorted({n for (p, _), n in threads.items() if p in host_pids})
    op_events = [e for e in host_events if ':' in e.get('name', '')]
    # xprof groups each step root with everything under it (and the GPU work it launched)
    # and tags them with the step's group_id.
    groups = {str(e['args']['group_id']) for e in host_events if 'group_id' in e.get('args', {})}
    steps_line = [e for e in complete if e.get('pid') in gpu_pids
                  and threads.get((e['pid'], e.get('tid'))) == 'Steps']
    print(f'{tool}: processes={sorted(processes.values())} host_threads={host_threads} '
          f'host_events={len(host_events)} host_op_events={len(op_events)} '
          f'step_groups={len(groups)} gpu_steps_line_events={len(steps_line)} '
          f'gpu_events={sum(1 for e in complete if e.get("pid") in gpu_pids)}')
    c.check(host_pids, f'{tool}: no /host:CPU process')
    c.check(host_events, f'{tool}: no host events')
    c.check(op_events, f'{tool}: no framework-op events ("scope/name:Type") on the host')
    for name in args.expect_thread:
      c.check(name in host_threads, f'{tool}: host thread {name!r} missing (have {host_threads})')
    if tool == 'trace_viewer':
      for name in args.expect_op_args:
        events = [e for e in op_events if e['name'].split(':')[0] == name]
        if not c.check(events, f'{tool}: no event of op {name}'):
          continue
        a = events[0].get('args', {})
        c.check('[' in a.get('inputs', '') and '[' in a.get('outputs', '') and
                int(a.get('output_bytes', 0)) > 0 and a.get('long_name', '').startswith(name),
                f'{tool}: op {name} lacks its tensors in the Details pane: {a}')
    if args.min_steps > 0:
      c.check(len(groups) >= args.min_steps,
              f'{tool}: host events fall in {len(groups)} step groups, expected >= '
              f'{args.min_steps}')
      if args.expect_gpu:
        c.check(len(steps_line) >= args.min_steps,
                f'{tool}: the GPU "Steps" line has {len(steps_line)} steps, expected >= '
                f'{args.min_steps}')
    if args.expect_gpu:
      c.check(gpu_pids, f'{tool}: no /device:GPU process')
      c.check(any(e.get('pid') in gpu_pids for e in complete), f'{tool}: no GPU events')


def check_framework_op_stats(c, r, paths, args):
  data = run_tool(r, paths, 'framework_op_stats')
  if not c.check(data, 'framework_op_stats: no data'):
    return
  table = find_table(json.loads(data), 'total_self_time')
  if not c.check(table, 'framework_op_stats: no op table'):
    return
  rows = [row for row in table_rows(table) if row.get('type') != 'IDLE']
  host = [row for row in rows if row.get('host_or_device') == 'Host']
  device = [row for row in rows if row.get('host_or_device') == 'Device']
  print(f'framework_op_stats: {len(host)} host ops, {len(device)} device ops')
  for row in rows:
    print(f'  {row["host_or_device"]:6} {row["type"]:12} {row["operation"]:30} '
          f'n={row["occurrences"]:g} total_us={row["total_time"]:g} '
          f'self_us={row["total_self_time"]:g}')
  c.check(host, 'framework_op_stats: no host ops')
  for row in rows:
    c.check(row.get('type') and row.get('operation'),
            f'framework_op_stats: row without type/name: {row}')
    c.check(0 <= row['total_self_time'] <= row['total_time'] * 1.0001 + 1e-9,
            f'framework_op_stats: {row["operation"]}: self time {row["total_self_time"]} not in '
            f'[0, total {row["total_time"]}]')
  # Percentages of self time add up to 100% on each side.
  for side, side_rows, key in (('Host', host, 'host_total_self_time_percent'),
                               ('Device', device, 'device_total_self_time_percent')):
    all_side = [row for row in table_rows(table) if row.get('host_or_device') == side]
    total_self = sum(row['total_self_time'] for row in all_side)
    if side_rows and total_self > 0:
      pct = sum(row.get(key) or 0 for row in all_side)
      c.check(abs(pct - 1.0) < 1e-3, f'framework_op_stats: {side} self-time shares add to {pct}')
  if args.expect_gpu:
    c.check(device, 'framework_op_stats: no device ops (kernels without tf_op?)')
  by_device_name = {row['operation']: row for row in device}
  for spec in args.expect_device_op:
    name, _, want = spec.partition('=')
    row = by_device_name.get(name)
    if not c.check(row, f'framework_op_stats: device op {name!r} missing (have '
                   f'{sorted(by_device_name)})'):
      continue
    if want:
      got = row['total_time']
      c.check(abs(got - float(want)) <= 0.01 + 1e-9,
              f'framework_op_stats: device op {name}: total time {got} us, expected {want}')
  by_name = {row['operation']: row for row in host}
  for spec in args.expect_op:
    name, _, want = spec.partition('=')
    row = by_name.get(name)
    if not c.check(row, f'framework_op_stats: host op {name!r} missing (have {sorted(by_name)})'):
      continue
    if want:
      self_us, _, total_us = want.partition('/')
      got = row['total_self_time']
      c.check(abs(got - float(self_us)) <= 0.01 * float(self_us) + 1e-6,
              f'framework_op_stats: {name}: self time {got} us, expected {self_us}')
      if total_us:
        got = row['total_time']
        c.check(abs(got - float(total_us)) <= 0.01 * float(total_us) + 1e-6,
                f'framework_op_stats: {name}: total time {got} us, expected {total_us}')


def check_overview(c, r, paths, args):
  data = run_tool(r, paths, 'overview_page')
  if not c.check(data, 'overview_page: no data'):
    return
  tables = json.loads(data)
  steps_table = find_table(tables, 'stepTimeMs')
  steps = table_rows(steps_table) if steps_table else []
  env = next((t.get('p', {}) for t in tables if isinstance(t, dict)
              and 'device_type' in t.get('p', {})), {})
  print(f'overview_page: device_type={env.get("device_type")!r} steps={len(steps)}')
  for s in steps:
    print(f'  step {s.get("stepnum")}: step_ms={s.get("stepTimeMs"):g} '
          f'device_compute_ms={s.get("deviceComputeTimeMs"):g} '
          f'host_compute_ms={s.get("hostComputeTimeMs"):g} input_ms={s.get("infeedTimeMs") or 0:g} '
          f'output_ms={s.get("outfeedTimeMs") or 0:g} other_ms={s.get("otherTimeMs"):g}')
  if args.min_steps > 0:
    c.check(len(steps) >= args.min_steps,
            f'overview_page: {len(steps)} steps in the step-time graph, expected >= '
            f'{args.min_steps}')
    for s in steps:
      c.check((s.get('stepTimeMs') or 0) > 0, f'overview_page: step {s.get("stepnum")} has no time')
      if args.expect_step_ms is not None:
        got = s.get('stepTimeMs') or 0
        c.check(abs(got - args.expect_step_ms) <= 0.01 * args.expect_step_ms,
                f'overview_page: step {s.get("stepnum")} lasts {got} ms, expected '
                f'{args.expect_step_ms}')
      if args.expect_gpu:
        c.check((s.get('deviceComputeTimeMs') or 0) > 0,
                f'overview_page: step {s.get("stepnum")} has no device compute time')
      if args.expect_step_device:
        parts = args.expect_step_device.split('/')
        for column, want in zip(('deviceComputeTimeMs', 'infeedTimeMs', 'outfeedTimeMs'), parts):
          got = s.get(column) or 0
          c.check(abs(got - float(want)) <= 0.0001 + 1e-9,
                  f'overview_page: step {s.get("stepnum")}: {column} {got} ms, expected {want}')
  if args.expect_gpu:
    c.check('GPU' in str(env.get('device_type')),
            f'overview_page: run environment device type {env.get("device_type")!r} is not a GPU')


def check_kernel_stats(c, r, paths, args):
  data = run_tool(r, paths, 'kernel_stats')
  if not c.check(data, 'kernel_stats: no data'):
    return
  table = find_table(json.loads(data), 'kernel_name')
  rows = table_rows(table) if table else []
  print(f'kernel_stats: {len(rows)} kernel rows')
  for row in rows[:20]:
    print(f'  {row["kernel_name"]:28} op={row.get("op_name")!r:24} grid={row.get("grid_dim")} '
          f'block={row.get("block_dim")} regs={row.get("registers_per_thread"):g} '
          f'n={row.get("occurrences"):g} total_us={row.get("total_duration_us"):g}')
  c.check(rows, 'kernel_stats: no kernels')
  for row in rows:
    for dim in ('grid_dim', 'block_dim'):
      value = str(row.get(dim) or '')
      c.check(value and value != '0,0,0',
              f'kernel_stats: {row["kernel_name"]}: no launch shape {dim} ({value!r})')
  c.check(any(row.get('op_name') for row in rows), 'kernel_stats: no kernel has an op name')
  for spec in args.expect_kernel:
    want = dict(part.split('=', 1) for part in spec.split('|') if part)
    if not c.check('name' in want, f'--expect-kernel {spec!r}: no name='):
      continue

    def matches(row, want=want):
      for key, column in (('name', 'kernel_name'), ('op', 'op_name'), ('grid', 'grid_dim'),
                          ('block', 'block_dim')):
        if key in want and str(row.get(column) or '') != want[key]:
          return False
      for key, column, tolerance in (('regs', 'registers_per_thread', 0),
                                     ('n', 'occurrences', 0), ('us', 'total_duration_us', 0.01)):
        if key in want and abs((row.get(column) or 0) - float(want[key])) > tolerance + 1e-9:
          return False
      return True

    c.check(any(matches(row) for row in rows),
            f'kernel_stats: no row matches {spec!r} (rows for that name: '
            f'{[row for row in rows if row.get("kernel_name") == want["name"]]})')


def check_chrome_traces(c, session):
  """Any <host>.trace.json.gz beside the xplane must gunzip and parse as a Chrome trace."""
  for path in sorted(glob.glob(os.path.join(session, '*.trace.json.gz'))):
    try:
      with gzip.open(path, 'rt', encoding='utf-8') as f:
        trace = json.load(f)
    except (OSError, ValueError) as e:
      c.check(False, f'{os.path.basename(path)}: not gzip-compressed JSON: {e}')
      continue
    events = trace.get('traceEvents', [])
    complete = sum(1 for e in events if e.get('ph') == 'X')
    print(f'{os.path.basename(path)}: {len(events)} events, {complete} complete')
    c.check(complete > 0, f'{os.path.basename(path)}: no complete ("X") events')


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--logdir', required=True)
  parser.add_argument('--expect-gpu', action='store_true')
  parser.add_argument('--min-steps', type=int, default=1)
  parser.add_argument('--expect-thread', action='append', default=[])
  parser.add_argument('--expect-op', action='append', default=[])
  parser.add_argument('--expect-op-args', action='append', default=[])
  parser.add_argument('--expect-step-ms', type=float)
  parser.add_argument('--expect-device-op', action='append', default=[])
  parser.add_argument('--expect-kernel', action='append', default=[])
  parser.add_argument('--expect-step-device')
  parser.add_argument('--verbose', action='store_true')
  args = parser.parse_args()

  try:
    with CapturedStderr(not args.verbose):
      from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable with {sys.executable}: {e}')
    return SKIP

  found = sessions(args.logdir)
  if not found:
    print(f'FAIL no DIR/**/plugins/profile/<session>/*.xplane.pb under {args.logdir}')
    return 2
  c = Checker()
  for session in found:
    paths = sorted(glob.glob(os.path.join(session, '*.xplane.pb')))
    print(f'== session {session}: {[os.path.basename(p) for p in paths]}')
    before = len(c.failures)
    check_chrome_traces(c, session)
    with CapturedStderr(not args.verbose) as log:
      tools = raw_to_tool_data.xspace_to_tool_names(paths)
      print(f'tools: {tools}')
      for tool in ('overview_page', 'framework_op_stats'):
        c.check(tool in tools, f'tool list lacks {tool}')
      c.check('trace_viewer@' in tools or 'trace_viewer' in tools, 'tool list lacks trace_viewer')
      if args.expect_gpu:
        c.check('kernel_stats' in tools, 'tool list lacks kernel_stats (no /device:GPU plane?)')
      checks = [check_trace_viewer, check_framework_op_stats, check_overview]
      if args.expect_gpu or args.expect_kernel:
        checks.append(check_kernel_stats)
      for check in checks:
        try:
          check(c, raw_to_tool_data, paths, args)
        except Exception as e:  # pylint: disable=broad-except
          c.check(False, f'{check.__name__}: xprof or its output failed: {e!r}')
    if len(c.failures) > before and log.text:
      print('-- xprof log:\n' + log.text[-20000:])
  print(f'{len(c.failures)} check(s) failed' if c.failures else 'all xprof checks passed')
  return 1 if c.failures else 0


if __name__ == '__main__':
  sys.exit(main())
