#!/usr/bin/env python3
"""The flight recorder left on: memory stays flat once the rings are full, and the steps cost
what they cost without it. Two parts, in one invocation:

  python3 bench/host/flight_soak.py build/examples/mlp_cpu/mlp_cpu \\
      [--soak-seconds 600] [--pairs 20] [--steps 60]      # the 10-minute version

1. Soak: one mlp_cpu (--batch 2: small steps, many events per second) with TBPROF=flight,
   TBPROF_FLIGHT_MB=8 and a 20 s window runs for --soak-seconds; a SIGUSR2 every 15 s makes it
   dump while it records. Its RSS is sampled every second. Printed: the step rate, the dumps'
   sizes, the RSS every ~10 s (a dump's decoding and encoding take transient memory, given
   back after it), and the RSS sampled just before each dump (the steady state: rings plus
   program) once the rings are full (from 45 s on; goal: flat).
2. Overhead: mlp_cpu --steps N (default batch 64) alternately with tracing off and with
   TBPROF=flight, --pairs times; the medians of the forward loop time and their ratio
   flight/off (goal <= 1.02), and the ratio of the fastest runs.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def rss_kib(pid):
  try:
    with open(f'/proc/{pid}/status') as f:
      for line in f:
        if line.startswith('VmRSS:'):
          return int(line.split()[1])
  except OSError:
    return None
  return None


def soak(binary, seconds, tmp):
  env = {k: v for k, v in os.environ.items() if not k.startswith('TBPROF')}
  env.update(TBPROF='flight', TBPROF_FLIGHT_MB='8', TBPROF_FLIGHT_WINDOW_MS='20000',
             TBPROF_LOGDIR=os.path.join(tmp, 'soak'), TBPROF_GPU='off')
  proc = subprocess.Popen([binary, '--seconds', str(seconds), '--batch', '2'], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  samples = []
  before_dump = []
  start = time.monotonic()
  next_signal = start + 15
  while proc.poll() is None:
    now = time.monotonic()
    kib = rss_kib(proc.pid)
    if kib is not None:
      samples.append((now - start, kib))
    if now >= next_signal:
      if kib is not None:
        before_dump.append((now - start, kib))
      proc.send_signal(signal.SIGUSR2)
      next_signal += 15
    time.sleep(1)
  out, err = proc.communicate()
  if proc.returncode != 0:
    sys.exit(f'mlp_cpu (flight soak) exited with {proc.returncode}:\n{out}\n{err}')
  m = re.search(r'ran (\d+) steps', out)
  steps = int(m.group(1)) if m else 0
  dumps = sorted(glob.glob(os.path.join(tmp, 'soak', 'plugins', 'profile', '*', '*.xplane.pb')))
  print(f'soak: {seconds} s, {steps} steps ({steps / max(seconds, 1):.0f}/s), '
        f'{len(dumps)} dumps written on SIGUSR2, sizes (KiB): '
        f'{[os.path.getsize(d) // 1024 for d in dumps]}')
  if not samples:
    return
  settle = min(45, seconds / 2)
  half = [kib for t, kib in samples if t >= settle]
  print('  RSS (MiB) every ~10 s: ' +
        ' '.join(f'{kib / 1024:.1f}' for t, kib in samples[::10]))
  if half:
    print(f'  from {settle:.0f} s to the end: min {min(half) / 1024:.1f} MiB, peak '
          f'{max(half) / 1024:.1f} MiB (during dumps)')
  steady = [kib for t, kib in before_dump if t >= settle]
  print('  RSS just before each dump (MiB): ' +
        ' '.join(f'{t:.0f}s:{kib / 1024:.1f}' for t, kib in before_dump))
  if len(steady) >= 2:
    print(f'  steady state from {settle:.0f} s: first {steady[0] / 1024:.1f} MiB, last '
          f'{steady[-1] / 1024:.1f} MiB, max - min {(max(steady) - min(steady)) / 1024:.2f} MiB '
          f'(goal: flat)')


def loop_ms(binary, steps, env):
  out = subprocess.run([binary, '--steps', str(steps)], env=env, check=True,
                       capture_output=True, text=True).stdout
  m = re.search(r'loop_ms: ([0-9.]+)', out)
  if not m:
    sys.exit('mlp_cpu printed no loop_ms:\n' + out)
  return float(m.group(1))


def overhead(binary, pairs, steps, tmp):
  off = {k: v for k, v in os.environ.items() if not k.startswith('TBPROF')}
  flight = dict(off, TBPROF='flight', TBPROF_GPU='off', TBPROF_LOGDIR=os.path.join(tmp, 'oh'))
  loop_ms(binary, 2, off)  # Warm the page cache.
  a, b = [], []
  for _ in range(pairs):
    a.append(loop_ms(binary, steps, off))
    b.append(loop_ms(binary, steps, flight))
  med = statistics.median
  print(f'overhead: mlp_cpu --steps {steps}, {pairs} interleaved pairs, medians: '
        f'off {med(a):.1f} ms, flight {med(b):.1f} ms')
  print(f'  ratio_loop_flight_vs_off {med(b) / med(a):.4f} (goal <= 1.02); '
        f'ratio_best {min(b) / min(a):.4f}; median of the pairs\' ratios '
        f'{med([y / x for x, y in zip(a, b)]):.4f}')


def main():
  p = argparse.ArgumentParser()
  p.add_argument('binary')
  p.add_argument('--soak-seconds', type=int, default=90)
  p.add_argument('--pairs', type=int, default=7)
  p.add_argument('--steps', type=int, default=60)
  args = p.parse_args()
  tmp = tempfile.mkdtemp(prefix='tbprof_flight_soak_')
  try:
    if args.soak_seconds > 0:
      soak(args.binary, args.soak_seconds, tmp)
    if args.pairs > 0:
      overhead(args.binary, args.pairs, args.steps, tmp)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
  main()
