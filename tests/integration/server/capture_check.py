#!/usr/bin/env python3
"""Captures a profile from `mlp_cpu --serve` exactly as TensorBoard's Capture Profile button does.

Starts the program with TBPROF=1 TBPROF_PORT=<free loopback port>, calls xprof's capture client
(xprof.convert._pywrap_profiler_plugin.trace, what the Profile plugin's /capture_profile route
calls) with the plugin's default options, then checks that the client saved
<logdir>/plugins/profile/<session>/localhost_<port>.xplane.pb and that xprof's converters show
the program's ops and steps (xprof_check.py). Exit status: 0 passed, 1 failed, 77 skipped.

With --flight the program runs the flight recorder (TBPROF=flight) instead: the capture asks for
2 s, of which the rings already hold the last 2 s, so the answer must come back in less than the
duration, with the flight recorder's note in the saved xplane.
"""

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time

SKIP = 77


def free_port():
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def wait_for_line(proc, text, timeout_s):
  """Reads the program's stdout until a line contains `text` (bounded)."""
  deadline = time.monotonic() + timeout_s
  seen = []
  os.set_blocking(proc.stdout.fileno(), False)
  buf = b''
  while time.monotonic() < deadline:
    if proc.poll() is not None:
      break
    chunk = proc.stdout.read()
    if chunk:
      buf += chunk
      if text.encode() in buf:
        return True, buf.decode('utf-8', 'replace')
    time.sleep(0.05)
  return False, buf.decode('utf-8', 'replace') + ''.join(seen)


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--workdir', required=True)
  parser.add_argument('--program', required=True)
  parser.add_argument('--xprof-check', required=True)
  parser.add_argument('--flight', action='store_true')
  args = parser.parse_args()

  try:
    from xprof.convert import _pywrap_profiler_plugin  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    print('SKIP: xprof cannot be imported here: %s' % e)
    return SKIP

  shutil.rmtree(args.workdir, ignore_errors=True)
  logdir = os.path.join(args.workdir, 'logdir')
  os.makedirs(logdir)
  port = free_port()
  env = dict(os.environ, TBPROF='1', TBPROF_PORT=str(port),
             TBPROF_LOGDIR=os.path.join(args.workdir, 'program_logs'), TBPROF_GPU='off')
  env.pop('TBPROF_STEPS', None)
  duration_ms = 1000
  if args.flight:
    env.update(TBPROF='flight', TBPROF_FLIGHT_WINDOW_MS='60000')
    duration_ms = 2000
  proc = subprocess.Popen([args.program, '--serve', '--batch', '16'], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
  try:
    ok, out = wait_for_line(proc, 'serving captures on 127.0.0.1:%d' % port, 60)
    if not ok:
      print('FAIL: the program did not report serving on port %d:\n%s' % (port, out))
      return 1
    print(out.strip())
    if args.flight:
      time.sleep(3)  # Let the rings hold more than the duration.
    # What the plugin's /capture_profile route does with the dialog's defaults.
    options = {'host_tracer_level': 2, 'device_tracer_level': 1, 'python_tracer_level': 0,
               'delay_ms': 0}
    started = time.monotonic()
    _pywrap_profiler_plugin.trace('localhost:%d' % port, logdir, '', True, duration_ms, 1,
                                  options)
    took = time.monotonic() - started
    print('capture took %.2f s' % took)
    if args.flight and took >= duration_ms / 1000:
      print('FAIL: the flight recorder took %.2f s to answer a %d ms capture: it should answer '
            'at once from its rings' % (took, duration_ms))
      return 1
    # The program stops once it has answered one capture.
    try:
      rest, _ = proc.communicate(timeout=60)
      print(rest.decode('utf-8', 'replace').strip())
    except subprocess.TimeoutExpired:
      print('FAIL: the program did not end after answering the capture')
      return 1
    if proc.returncode != 0:
      print('FAIL: the program exited with %d' % proc.returncode)
      return 1
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait(timeout=30)

  found = glob.glob(os.path.join(logdir, 'plugins', 'profile', '*', '*.xplane.pb'))
  print('saved by the capture client: %s' % found)
  expected = 'localhost_%d.xplane.pb' % port
  if len(found) != 1 or os.path.basename(found[0]) != expected:
    print('FAIL: expected one <logdir>/plugins/profile/<session>/%s' % expected)
    return 1
  if args.flight:
    with open(found[0], 'rb') as f:
      if b'tbprof flight recorder dump (Capture Profile)' not in f.read():
        print('FAIL: the xplane lacks the flight recorder note')
        return 1
  if os.path.exists(os.path.join(args.workdir, 'program_logs')):
    print('FAIL: the server wrote files of its own')
    return 1
  check = subprocess.run(
      [sys.executable, args.xprof_check, '--logdir', logdir, '--min-steps', '3',
       '--expect-thread', 'input', '--expect-op', 'mlp/dense_1/MatMul',
       '--expect-op', 'mlp/dense_4/Softmax'], timeout=240)
  return check.returncode


if __name__ == '__main__':
  sys.exit(main())
