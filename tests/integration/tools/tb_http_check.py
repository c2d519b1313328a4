#!/usr/bin/env python3
"""End to end: capture with `tbprof run`, check with `tbprof validate/summary/chrome/dot`, then
serve the log directory with the real TensorBoard on loopback and check over HTTP what its
Profile tab (xprof) and Graphs tab serve.

  python tb_http_check.py --venv VENV --workdir DIR --tbprof PATH --program PATH

Exit status 0 when every check passed, 1 otherwise (each failure printed as "FAIL: ...").
"""

import argparse
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

FAILURES = []


def check(cond, message):
  print(("ok:   " if cond else "FAIL: ") + message, flush=True)
  if not cond:
    FAILURES.append(message)
  return cond


def free_port():
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def get(base, path, params=None, timeout=180):
  url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
  with urllib.request.urlopen(url, timeout=timeout) as r:
    data = r.read()
    if r.headers.get("Content-Encoding") == "gzip":
      data = gzip.decompress(data)
    return data


def start_tensorboard(venv, logdir, log_path):
  port = free_port()
  log = open(log_path, "wb")
  proc = subprocess.Popen(
      [os.path.join(venv, "bin", "tensorboard"), "--logdir", logdir, "--port", str(port),
       "--host", "127.0.0.1", "--reload_interval", "1"],
      stdout=log, stderr=subprocess.STDOUT)
  base = "http://127.0.0.1:%d" % port
  deadline = time.time() + 120
  while time.time() < deadline:
    if proc.poll() is not None:
      break
    try:
      get(base, "/data/plugins_listing", timeout=5)
      return proc, base
    except (urllib.error.URLError, ConnectionError, OSError):
      time.sleep(0.5)
  stop(proc)
  raise RuntimeError("tensorboard did not answer within 120 s; see " + log_path)


def stop(proc):
  if proc.poll() is None:
    proc.terminate()
    try:
      proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait(timeout=15)


def run(cmd, **kw):
  print("$ " + " ".join(cmd), flush=True)
  return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--venv", required=True)
  ap.add_argument("--workdir", required=True)
  ap.add_argument("--tbprof", required=True)
  ap.add_argument("--program", required=True)
  args = ap.parse_args()

  shutil.rmtree(args.workdir, ignore_errors=True)
  os.makedirs(args.workdir)
  logdir = os.path.join(args.workdir, "logs")

  # 1. Capture with `tbprof run` (exit code forwarded, summary printed).
  r = run([args.tbprof, "run", "--steps", "2:5", "--logdir", logdir, "--", args.program])
  sys.stdout.write(r.stderr[-3000:])
  check(r.returncode == 0, "tbprof run exits with the program's status 0 (got %d)" % r.returncode)
  check("Profile session" in r.stderr, "tbprof run prints the summary of the new profile")

  # 2. Our own checks of the output.
  r = run([args.tbprof, "validate", logdir])
  sys.stdout.write(r.stdout[-5000:] + r.stderr[-2000:])
  check(r.returncode == 0, "tbprof validate finds no violation in the capture")

  r = run([args.tbprof, "summary", logdir, "--json"])
  check(r.returncode == 0, "tbprof summary --json succeeds")
  summary = json.loads(r.stdout)
  profile = summary["profiles"][0]
  ops = [op["name"] for op in profile["ops"]]
  check(profile["steps"]["count"] == 4, "4 steps captured (2..5), got %d" % profile["steps"]["count"])
  check(len(ops) > 0, "framework ops found: %s" % ops[:5])
  session, run_name, host = summary["session"], summary["run"], profile["host"]
  # The session directory says which export it holds (TBPROF_STEPS=2:5 exports "steps_2_5"),
  # after the time, so that the Sessions list tells captures apart and sorts them by time.
  check(re.fullmatch(r"[0-9]{4}(_[0-9]{2}){5}_steps_2_5(_[0-9]+)?", session),
        "session directory %s is <time>_steps_2_5" % session)

  trace = os.path.join(args.workdir, "trace.json.gz")
  r = run([args.tbprof, "chrome", logdir, "-o", trace])
  check(r.returncode == 0, "tbprof chrome succeeds")
  if r.returncode == 0:
    events = json.loads(gzip.decompress(open(trace, "rb").read()))["traceEvents"]
    check(any(e.get("name", "").startswith(ops[0]) for e in events),
          "chrome trace has events of op %s" % ops[0])

  graph_tags = [t for f in summary["event_files"] for t in f["tags"]]
  if graph_tags:
    svg = os.path.join(args.workdir, "graph.svg")
    r = run([args.tbprof, "dot", logdir, "-o", svg])
    check(r.returncode == 0 and "<svg" in open(svg).read(), "tbprof dot renders an SVG: " + r.stderr.strip())

  # 3. The real TensorBoard over HTTP.
  proc, base = start_tensorboard(args.venv, logdir, os.path.join(args.workdir, "tensorboard.log"))
  try:
    plugins = json.loads(get(base, "/data/plugins_listing"))
    check("profile" in plugins, "TensorBoard lists the profile plugin")
    runs = json.loads(get(base, "/data/plugin/profile/runs"))
    frontend_run = session if run_name == "." else run_name + "/" + session
    check(frontend_run in runs, "profile plugin lists run %s (runs: %s)" % (frontend_run, runs))
    tools = json.loads(get(base, "/data/plugin/profile/run_tools", {"run": frontend_run}))
    tool_names = [t.rstrip("@") for t in tools]
    for tool in ("trace_viewer", "overview_page", "framework_op_stats"):
      check(tool in tool_names, "run %s offers tool %s (tools: %s)" % (frontend_run, tool, tools))
    hosts = json.loads(get(base, "/data/plugin/profile/hosts",
                           {"run": frontend_run, "tag": "framework_op_stats"}))
    host_names = [h.get("hostname") if isinstance(h, dict) else h for h in hosts]
    check(host in host_names, "profile plugin lists host %s (hosts: %s)" % (host, hosts))
    stats = get(base, "/data/plugin/profile/data",
                {"run": frontend_run, "tag": "framework_op_stats", "host": host}).decode()
    for op in ops[:3]:
      check(op in stats, "framework_op_stats serves op %s" % op)
    overview = get(base, "/data/plugin/profile/data",
                   {"run": frontend_run, "tag": "overview_page", "host": host}).decode()
    check(len(overview) > 100, "overview_page serves data (%d bytes)" % len(overview))
    # Recorded allocations (mlp_cpu's arena): the Memory Profile tool, served by TensorBoard,
    # lists each allocator `tbprof summary` lists, with the same peak.
    for allocator in profile.get("memory", []):
      check("memory_profile" in tool_names,
            "run %s offers tool memory_profile (tools: %s)" % (frontend_run, tools))
      memory = json.loads(get(base, "/data/plugin/profile/data",
                              {"run": frontend_run, "tag": "memory_profile", "host": host}))
      per_allocator = memory.get("memoryProfilePerAllocator", {})
      name = allocator["allocator"]
      check(name in per_allocator, "memory_profile lists allocator %s (%s)" % (name, list(per_allocator)))
      if name in per_allocator:
        peak = int(per_allocator[name]["profileSummary"]["peakStats"]["peakBytesInUse"])
        check(peak == allocator["peak_bytes"],
              "memory_profile peak of %s is %d, tbprof summary says %d" % (name, peak, allocator["peak_bytes"]))

    if not graph_tags:
      print("note: the event files hold no graph run metadata yet; Graphs tab checks skipped")
    else:
      info = json.loads(get(base, "/data/plugin/graphs/info"))
      graph_run = "." if run_name == "." else run_name
      run_info = info.get(graph_run, {})
      tags = run_info.get("tags", {})
      tag = graph_tags[-1]
      check(tag in tags, "graphs plugin lists tag %s (info: %s)" % (tag, json.dumps(info)[:300]))
      if tag in tags:
        check(tags[tag].get("op_graph") and tags[tag].get("profile"),
              "tag %s has an op graph and a profile: %s" % (tag, tags[tag]))
        graph = get(base, "/data/plugin/graphs/graph", {"run": graph_run, "tag": tag}).decode()
        op_name = ops[0]
        check('name: "%s"' % op_name in graph, "graph of tag %s has node %s" % (tag, op_name))
        rm = get(base, "/data/plugin/graphs/run_metadata", {"run": graph_run, "tag": tag}).decode()
        check("step_stats" in rm and "node_stats" in rm and "all_end_rel_micros" in rm,
              "run_metadata of tag %s carries step stats (%d bytes)" % (tag, len(rm)))
        check('node_name: "%s"' % op_name in rm, "step stats name node %s" % op_name)
  finally:
    stop(proc)
  print("%d check(s) failed" % len(FAILURES) if FAILURES else "all checks passed")
  return 1 if FAILURES else 0


if __name__ == "__main__":
  sys.exit(main())
