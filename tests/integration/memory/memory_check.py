#!/usr/bin/env python3
"""mlp_cpu's activation arena in xprof's Memory Profile tool, checked with xprof's converter.

Runs mlp_cpu with TBPROF=1 TBPROF_STEPS=2:4 (its activations come from a caching arena that
reports every allocation and free to tbprof, and it prints the arena's own peak as
"arena_peak_bytes: N"), then converts the profile with xprof's memory_profile tool and checks:
  - the allocator "mlp_cpu_arena" is listed, and its peak (peakStats.peakBytesInUse) equals the
    arena's own peak exactly;
  - the table of allocations alive at the peak is filled: each row has an op of the model
    ("mlp/dense_<k>/<Op>"), a float tensor shape "[rows, cols]", and the rows add up to the peak;
  - the timeline is a sawtooth: bytes in use fall back to 0 between the captured steps and reach
    the peak; the capacity (in use + the arena's free pool) is at least the peak, and the
    fragmentation is a fraction.

  $TBPROF_TEST_VENV/bin/python tests/integration/memory/memory_check.py \\
      --program build/examples/mlp_cpu/mlp_cpu --workdir /tmp/memory_check

Exit status: 0 passed, 1 failed, 77 xprof cannot be imported (a skip).
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


def main():
  p = argparse.ArgumentParser()
  p.add_argument('--program', required=True)
  p.add_argument('--workdir', required=True)
  args = p.parse_args()
  try:
    from xprof.convert import raw_to_tool_data  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print(f'SKIP: xprof is not importable with {sys.executable}: {e}')
    return SKIP

  shutil.rmtree(args.workdir, ignore_errors=True)
  logdir = os.path.join(args.workdir, 'logs')
  env = {k: v for k, v in os.environ.items() if not k.startswith('TBPROF')}
  env.update(TBPROF='1', TBPROF_STEPS='2:4', TBPROF_LOGDIR=logdir)
  run = subprocess.run([args.program, '--steps', '6', '--batch', '32'], env=env,
                       capture_output=True, text=True, timeout=240)
  print(run.stdout + run.stderr)
  if run.returncode != 0:
    print(f'FAIL: mlp_cpu exited with {run.returncode}')
    return 1
  m = re.search(r'arena_peak_bytes: (\d+)', run.stdout)
  if not m:
    print('FAIL: mlp_cpu printed no arena_peak_bytes')
    return 1
  arena_peak = int(m.group(1))
  xplanes = glob.glob(os.path.join(logdir, 'plugins', 'profile', '*', '*.xplane.pb'))
  if len(xplanes) != 1:
    print(f'FAIL: expected one xplane, found {xplanes}')
    return 1

  data, _ = raw_to_tool_data.xspace_to_tool_data(xplanes, 'memory_profile',
                                                 {'use_saved_result': False})
  profile = json.loads(data)
  failures = []

  def check(ok, message):
    if not ok:
      failures.append(message)
    return ok

  ids = profile.get('memoryIds', [])
  print(f'memory ids: {ids}; arena peak {arena_peak}')
  if check(ids == ['mlp_cpu_arena'], f'memoryIds {ids}, expected ["mlp_cpu_arena"]'):
    a = profile['memoryProfilePerAllocator']['mlp_cpu_arena']
    summary = a['profileSummary']
    peak = int(summary['peakStats']['peakBytesInUse'])
    print(f'xprof peak {peak}, capacity {summary.get("memoryCapacity")}, '
          f'fragmentation {summary["peakStats"].get("fragmentation")}')
    check(arena_peak > 0, 'the arena reports no peak')
    check(peak == arena_peak, f'xprof peak {peak} != the arena\'s own peak {arena_peak}')
    check(int(summary.get('memoryCapacity', 0)) >= peak,
          f'capacity {summary.get("memoryCapacity")} < peak {peak}')
    frag = summary['peakStats'].get('fragmentation', -1)
    check(0 <= frag <= 1, f'fragmentation {frag} is not a fraction')

    snapshots = a.get('memoryProfileSnapshots', [])
    active = a.get('activeAllocations', [])
    check(len(a.get('specialAllocations', [])) == 0,
          f'unexpected special allocations {a.get("specialAllocations")}')
    total = 0
    for row in active:
      index = int(row['snapshotIndex'])
      if not check(0 <= index < len(snapshots), f'active allocation row {row} has no snapshot'):
        continue
      meta = snapshots[index]['activityMetadata']
      total += int(meta['allocationBytes']) * int(row.get('numOccurrences', 1))
      print(f'  alive at peak: {meta["tfOpName"]} {meta["dataType"]} {meta["tensorShape"]} '
            f'{meta["allocationBytes"]} bytes x{row.get("numOccurrences", 1)}')
      check(re.fullmatch(r'mlp/dense_\d/(MatMul|Relu|Softmax):\1', meta.get('tfOpName', '')),
            f'alive at peak: op {meta.get("tfOpName")!r} is not an op of the model')
      check(re.fullmatch(r'\[\d+, \d+\]', meta.get('tensorShape', '')),
            f'alive at peak: shape {meta.get("tensorShape")!r}')
      check(meta.get('dataType') == 'float', f'alive at peak: dtype {meta.get("dataType")!r}')
    check(len(active) >= 2, f'{len(active)} allocation(s) alive at the peak, expected >= 2')
    check(total == peak, f'the allocations alive at the peak add up to {total}, not {peak}')

    timeline = [int(s['aggregationStats']['heapAllocatedBytes'])
                for s in a.get('sampledTimelineSnapshots', [])]
    zeros = sum(1 for v in timeline if v == 0)
    print(f'timeline: {len(timeline)} points, {zeros} at zero, max {max(timeline or [0])}')
    check(max(timeline or [0]) == peak, 'the timeline does not reach the peak')
    # Three captured steps: in use falls back to 0 at the end of each.
    check(zeros >= 3, f'bytes in use fall back to 0 only {zeros} time(s), expected >= 3')

  for f in failures:
    print(f'FAIL: {f}')
  if not failures:
    print('PASS')
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
