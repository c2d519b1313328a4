#!/usr/bin/env python3
"""Writes the profiles of tests/data/foreign with the real TensorFlow and JAX, then records what
xprof shows for them (expected_xprof.txt), so that the tests need neither.

  python3 -m venv V && V/bin/pip install tensorflow-cpu==2.21.0 'jax[cpu]' xprof==2.24.2
  V/bin/python tests/data/foreign/make_corpus.py [--out tests/data/foreign] [--only CASE] [--expect-only]

Each case is one TensorBoard log directory under OUT (the workloads are tiny so that the files
stay small):

  keras_fit        Keras `fit` with the TensorBoard callback's profile_batch (and its graphs)
  tf_profiler      tf.profiler.experimental.start/stop around a tf.function loop with
                   tf.profiler.experimental.Trace("train", step_num=i, _r=1) step markers
  tf_nosteps       the same loop without step markers
  tf_trace_export  tf.summary.trace_on(graph=True, profiler=True) / trace_export
  jax_jit          a jitted step under jax.profiler.StepTraceAnnotation
  jax_eager        JAX op by op (no jit, no step annotation)

expected_xprof.txt lists, per profile file, what xprof's converters show (xprof's own code, run
here): the overview page's steps ("step NAME MS") and framework_op_stats' host rows ("op TYPE
NAME COUNT SELF_US"). Paths are relative to OUT.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

CASES = ['keras_fit', 'tf_profiler', 'tf_nosteps', 'tf_trace_export', 'jax_jit', 'jax_eager']


def keras_fit(logdir):
  import numpy as np
  import tensorflow as tf
  x = np.random.RandomState(0).rand(64, 4).astype('float32')
  y = (x.sum(axis=1, keepdims=True) > 2).astype('float32')
  model = tf.keras.Sequential([
      tf.keras.Input(shape=(4,)),
      tf.keras.layers.Dense(8, activation='relu', name='dense_1'),
      tf.keras.layers.Dense(1, activation='sigmoid', name='dense_2'),
  ])
  model.compile(optimizer='sgd', loss='binary_crossentropy')
  cb = tf.keras.callbacks.TensorBoard(log_dir=logdir, profile_batch=(2, 4), write_graph=True)
  model.fit(x, y, batch_size=8, epochs=1, callbacks=[cb], verbose=0)


def _tf_loop(logdir, markers):
  import tensorflow as tf
  w = tf.Variable(tf.ones([16, 16]))

  @tf.function
  def step(x):
    return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)))

  x = tf.ones([16, 16])
  step(x)  # Traced before the capture.
  tf.profiler.experimental.start(logdir)
  for i in range(5):
    if markers:
      with tf.profiler.experimental.Trace('train', step_num=i, _r=1):
        step(x)
    else:
      step(x)
  tf.profiler.experimental.stop()


def tf_profiler(logdir):
  _tf_loop(logdir, markers=True)


def tf_nosteps(logdir):
  _tf_loop(logdir, markers=False)


def tf_trace_export(logdir):
  import tensorflow as tf
  w = tf.Variable(tf.ones([8, 8]))

  @tf.function
  def model(x):
    h = tf.nn.relu(tf.matmul(x, w, name='matmul_1'), name='relu_1')
    return tf.reduce_sum(tf.matmul(h, w, name='matmul_2'), name='total')

  writer = tf.summary.create_file_writer(logdir)
  tf.summary.trace_on(graph=True, profiler=True, profiler_outdir=logdir)
  model(tf.ones([8, 8]))
  with writer.as_default():
    tf.summary.trace_export(name='model_trace', step=0)
  writer.flush()


def jax_jit(logdir):
  import jax
  import jax.numpy as jnp

  @jax.jit
  def step(w, x):
    loss = lambda w: jnp.sum(jax.nn.relu(x @ w) ** 2)
    return w - 0.01 * jax.grad(loss)(w)

  w = jnp.ones((16, 16))
  x = jnp.ones((8, 16))
  w = step(w, x).block_until_ready()
  jax.profiler.start_trace(logdir)
  for i in range(5):
    with jax.profiler.StepTraceAnnotation('train', step_num=i):
      w = step(w, x)
      w.block_until_ready()
  jax.profiler.stop_trace()


def jax_eager(logdir):
  import jax
  import jax.numpy as jnp
  x = jnp.ones((8, 8))
  (x @ x).block_until_ready()
  jax.profiler.start_trace(logdir)
  for _ in range(3):
    x = jnp.tanh(x @ x) + 1.0
  x.block_until_ready()
  jax.profiler.stop_trace()


def run_case(case, out):
  logdir = os.path.join(out, case)
  shutil.rmtree(logdir, ignore_errors=True)
  os.makedirs(logdir)
  # One process per case: TensorFlow and JAX each own the process-wide profiler.
  code = (f'import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); '
          f'import make_corpus; make_corpus.{case}({logdir!r})')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='',
             JAX_PLATFORMS='cpu')
  subprocess.run([sys.executable, '-c', code], check=True, env=env)
  # Keep only what TensorBoard reads: profiles and event files.
  for path in glob.glob(os.path.join(logdir, '**', '*'), recursive=True):
    if os.path.isfile(path) and not (path.endswith('.xplane.pb') or 'tfevents' in path):
      os.remove(path)


def tool(paths, name):
  from xprof.convert import raw_to_tool_data
  data, _ = raw_to_tool_data.xspace_to_tool_data(paths, name, {'use_saved_result': False})
  if isinstance(data, bytes):
    data = data.decode('utf-8')
  return json.loads(data) if data else None


def table_rows(table):
  cols = [c.get('id') for c in table.get('cols', [])]
  return [dict(zip(cols, [c.get('v') if c else None for c in row.get('c', [])]))
          for row in table.get('rows', [])]


def find_table(tables, column):
  if isinstance(tables, dict):
    tables = [tables]
  for t in tables:
    if isinstance(t, dict) and any(c.get('id') == column for c in t.get('cols', [])):
      return t
  return None


def xprof_view(path):
  """What xprof shows for one profile file: its steps and its host op rows."""
  lines = []
  overview = tool([path], 'overview_page')
  steps = find_table(overview, 'stepTimeMs') if overview else None
  for row in table_rows(steps) if steps else []:
    lines.append(f'step {row.get("stepnum")} {row.get("stepTimeMs"):.6f}')
  ops = tool([path], 'framework_op_stats')
  table = find_table(ops, 'host_or_device') if ops else None
  for row in table_rows(table) if table else []:
    if row.get('host_or_device') != 'Host' or row.get('type') == 'IDLE':
      continue
    lines.append(f'op {row.get("type")} {row.get("operation")} {int(row.get("occurrences"))} '
                 f'{row.get("total_self_time"):.3f}')
  return lines


def main():
  p = argparse.ArgumentParser()
  p.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
  p.add_argument('--only', action='append', choices=CASES)
  p.add_argument('--expect-only', action='store_true', help='only rewrite expected_xprof.txt')
  p.add_argument('--print', metavar='XPLANE', help='print what xprof shows for one file')
  args = p.parse_args()
  if args.print:
    print('\n'.join(xprof_view(args.print)))
    return
  if not args.expect_only:
    for case in args.only or CASES:
      run_case(case, args.out)
  out = []
  for path in sorted(glob.glob(os.path.join(args.out, '**', '*.xplane.pb'), recursive=True)):
    out.append('profile ' + os.path.relpath(path, args.out))
    out.extend(xprof_view(path))
  with open(os.path.join(args.out, 'expected_xprof.txt'), 'w') as f:
    f.write('\n'.join(out) + '\n')
  # xprof caches what it computed beside the profiles; the fixtures keep only the inputs.
  for path in glob.glob(os.path.join(args.out, '**', '*.op_stats*.pb'), recursive=True):
    os.remove(path)


if __name__ == '__main__':
  main()
