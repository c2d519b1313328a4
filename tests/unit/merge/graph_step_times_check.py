"""Checks the Graphs tab's per-step times of a tbprof log directory the way TensorBoard shows them.

Runs GENERATOR (the log directory as its first argument, or after --logdir-flag, then the
--generator-arg values; TBPROF=1, TBPROF_LOGDIR and every --env set) unless --logdir names an existing one, then for each --tag:

  1. serves the log directory with the real TensorBoard and reads, over HTTP as the browser does,
     the tag's graph (/data/plugin/graphs/graph), its step stats
     (/data/plugin/graphs/run_metadata) and its model summary (/data/plugin/text/text), which
     names the step the Graphs tab shows ("step N, the median of K");
  2. combines them with TensorBoard's own frontend code, taken from the webfiles.zip TensorBoard
     serves and run in Node.js: the strict-name mapping of the graph loader, the join of step
     stats with graph nodes (device filter /device:<TYPE>:<N>$, every NodeExecStats of a node
     adds [all_start_micros, +all_end_rel_micros], memory is the largest total_bytes) and the
     hierarchy's combination of leaves into every enclosing name scope (first start to last
     end; memory summed). That is the "Compute time" and "Memory" the node card shows;
  3. reads the same step in the trace viewer (xprof's trace_viewer converter on the tag's
     profile session): the events of the step's group ("step N" and everything xprof groups
     with it, host ops and GPU work) and, for every name scope of the graph, its wall span:
     first start to last end of the ops under it ("scope/...:Type" on the host, the GPU work
     whose tf_op is under it);
  4. checks that every name scope's compute time equals that span within 1% (2 us at least:
     step stats carry whole microseconds), that the leaf ops and outside tensors agree (tensors
     from outside, "Const"/"VariableV2"/"Placeholder" nodes, carry memory and no time), and
     that no op shows more time than the step.

Exit 77 (skipped) when TensorBoard, xprof or Node.js is missing; 1 on a failed check.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import tb_http  # This folder: shared with the other TensorBoard checks.

SKIP = 77


def get(port, path, **params):
    return tb_http.get(port, path, 60, **params)


def grab_js(source, start):
    """The text of the function or class that starts with `start` (balanced braces)."""
    i = source.index(start)
    j = source.index("{", i)
    depth = 0
    for k in range(j, len(source)):
        if source[k] == "{":
            depth += 1
        elif source[k] == "}":
            depth -= 1
            if depth == 0:
                return source[i:k + 1]
    raise ValueError(f"unbalanced {start}")


def frontend_js():
    """TensorBoard's graph code (the bundle it serves), with the lodash calls it needs."""
    import tensorboard
    bundle = os.path.join(os.path.dirname(tensorboard.__file__), "webfiles.zip")
    with zipfile.ZipFile(bundle) as z:
        source = z.read("index.js").decode("utf-8")
    # The minified names differ between builds: find them by the code's own strings.
    stats_class = re.search(r"var (\w+)=class\{constructor\(t\)\{this\.totalBytes=0,"
                            r"this\.outputSize=t\}addExecutionTime", source).group(1)
    join_fn = re.search(r"function (\w+)\(e,t,r\)\{\w+\.each\(e\.nodes,n=>\{n\.stats=null\}\)",
                        source).group(1)
    strict_fn = re.search(r"function (\w+)\(e\)\{let t=e\.split\(\w+\);return e\+\w+\+\"\(\"",
                          source).group(1)
    strict_map_fn = re.search(r"function (\w+)\(e,t\)\{let r=\{\},n=\{\};e\.sort\(\);",
                              source).group(1)
    path_fn = re.search(r"function (\w+)\(e,t\)\{let r=\[\],n=e\.indexOf\(\w+\);", source).group(1)
    device_re = re.search(r"var \w+=(/device:\(\[\^:\]\+:\[0-9\]\+\)\$/),\w+=\[\{regex:", source)
    parts = [grab_js(source, f"var {stats_class}=class{{"),
             grab_js(source, f"function {join_fn}("),
             grab_js(source, f"function {strict_fn}("),
             grab_js(source, f"function {strict_map_fn}("),
             grab_js(source, f"function {path_fn}(")]
    lodash_alias = re.search(r"function " + join_fn + r"\(e,t,r\)\{(\w+)\.each", source).group(1)
    sep_alias = re.search(r"function " + strict_fn + r"\(e\)\{let t=e\.split\((\w+)\)",
                          source).group(1)
    prelude = (
        "const __each=(c,f)=>{if(Array.isArray(c))c.forEach((v,i)=>f(v,i));"
        "else if(c)Object.keys(c).forEach(k=>f(c[k],k));};\n"
        f"const {lodash_alias}={{each:__each,map:(c,f)=>(c||[]).map(f),keys:Object.keys,"
        "startsWith:(s,p)=>s.startsWith(p)};\n"
        f"const {sep_alias}='/';\n")
    driver = f"""
const input=JSON.parse(require('fs').readFileSync(0,'utf8'));
// The loader: node names that are also a scope become "name/(name)".
const rename={strict_map_fn}(input.nodes.map(n=>n.name),{{}});
const graph={{nodes:{{}}}};
for(const n of input.nodes){{const name=rename[n.name]||n.name;graph.nodes[name]={{name,op:n.op}};}}
const devices={{}};
for(const d of input.stats.dev_stats||[]) if({device_re.group(1) if device_re else '/device:([^:]+:[0-9]+)$/'}.test(d.device)) devices[d.device]=true;
{join_fn}(graph,input.stats,devices);
// The hierarchy: every leaf's stats combined into each enclosing name scope.
const groups={{}};
for(const name of Object.keys(graph.nodes)){{
  const leaf=graph.nodes[name]; if(leaf.stats==null) continue;
  for(const scope of {path_fn}(name).slice(0,-1)){{
    if(!groups[scope]) groups[scope]=new {stats_class}(null);
    groups[scope].combine(leaf.stats);
  }}
}}
const out={{leaves:{{}},scopes:{{}}}};
for(const [name,n] of Object.entries(graph.nodes)) out.leaves[name]={{op:n.op,
  micros:n.stats?n.stats.getTotalMicros():null,bytes:n.stats?n.stats.totalBytes:null,
  start:n.stats?n.stats.startTime:null}};
for(const [name,s] of Object.entries(groups)) out.scopes[name]={{micros:s.getTotalMicros(),
  bytes:s.totalBytes,start:s.startTime,end:s.endTime}};
process.stdout.write(JSON.stringify(out));
"""
    return prelude + "\n".join(parts) + "\n" + driver


def run_frontend(node_bin, js, nodes, stats):
    with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
        f.write(js)
        path = f.name
    try:
        out = subprocess.run([node_bin, path], input=json.dumps({"nodes": nodes, "stats": stats}),
                             capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError(f"node failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def tensorboard_view(logdir, run, tags, tmp):
    """graph nodes, run metadata (as JSON) and model summary text per tag, over HTTP."""
    from google.protobuf import json_format, text_format
    from tensorboard.compat.proto import config_pb2, graph_pb2
    port = tb_http.free_port()
    log = open(os.path.join(tmp, "tensorboard.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", str(port),
         "--host", "127.0.0.1", "--load_fast=false", "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    views = {}
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                info = json.loads(get(port, "/data/plugin/graphs/info"))
                if all(t in info.get(run, {}).get("tags", {}) for t in tags):
                    break
            except (OSError, ValueError):
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        for tag in tags:
            graph = graph_pb2.GraphDef()
            text_format.Parse(get(port, "/data/plugin/graphs/graph", run=run, tag=tag), graph)
            rm = config_pb2.RunMetadata()
            text_format.Parse(get(port, "/data/plugin/graphs/run_metadata", run=run, tag=tag), rm)
            stats = json_format.MessageToDict(rm.step_stats, preserving_proto_field_name=True)
            # The frontend's own pbtxt parser turns int64 into numbers.
            for dev in stats.get("dev_stats", []):
                for s in dev.get("node_stats", []):
                    for key in ("all_start_micros", "all_end_rel_micros"):
                        if key in s:
                            s[key] = int(s[key])
                    for m in s.get("memory", []):
                        if "total_bytes" in m:
                            m["total_bytes"] = int(m["total_bytes"])
            text = json.loads(get(port, "/data/plugin/text/text", run=run,
                                  tag=f"{tag}/model_summary"))
            views[tag] = ([{"name": n.name, "op": n.op} for n in graph.node], stats,
                          text[-1]["text"] if text else "")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return views


def session_of(logdir, run, tag):
    """The profile session directory of the export named `tag` (its name ends the directory
    name), else the only one."""
    base = logdir if run == "." else os.path.join(logdir, run)
    sessions = sorted(os.path.dirname(p) for p in
                      glob.glob(os.path.join(base, "plugins", "profile", "*", "*.xplane.pb")))
    named = [s for s in sessions
             if re.search(r"_" + re.escape(tag) + r"(_[0-9]+)?$", os.path.basename(s))]
    if named:
        return named[-1]
    return sessions[0] if len(sessions) == 1 else None


def trace_viewer_events(session):
    from xprof.convert import raw_to_tool_data
    paths = sorted(glob.glob(os.path.join(session, "*.xplane.pb")))
    data, _ = raw_to_tool_data.xspace_to_tool_data(paths, "trace_viewer",
                                                   {"use_saved_result": False})
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data)["traceEvents"]


def op_of(event, gpu_pids):
    """The op ("scope/name") an event of the trace viewer belongs to, or None."""
    args = event.get("args", {})
    if event.get("pid") in gpu_pids:
        tf_op = args.get("tf_op", "")
        return tf_op.split(":")[0] if tf_op else None
    name = event.get("name", "")
    return name.split(":")[0] if ":" in name else None


def check_tag(tag, view, events, js, node_bin, failures, tolerance, expect_gpu):
    nodes, stats, summary = view
    shown = run_frontend(node_bin, js, nodes, stats)
    m = re.search(r"step (-?\d+), the median of (\d+)", summary)
    processes = {e["pid"]: e["args"]["name"] for e in events
                 if e.get("ph") == "M" and e.get("name") == "process_name"}
    gpu_pids = {p for p, n in processes.items() if "/device:GPU:" in n}
    complete = [e for e in events if e.get("ph") == "X"]
    if m:
        step = m.group(1)
        roots = [e for e in complete if e.get("args", {}).get("step_num") == step]
        if not roots:
            failures.append(f"{tag}: the trace viewer has no step {step}")
            return
        group = roots[0]["args"].get("group_id")
        in_step = [e for e in complete if e.get("args", {}).get("group_id") == group]
        step_us = roots[0]["dur"]
        print(f"  {tag}: Graphs tab shows step {step} (median of {m.group(2)}), "
              f"{step_us / 1000:.3f} ms in the trace viewer")
    elif "no steps marked" in summary or "whole capture" in summary:
        in_step = complete
        step_us = max(e["ts"] + e["dur"] for e in complete) - min(e["ts"] for e in complete)
        print(f"  {tag}: no steps: the whole capture")
    else:
        failures.append(f"{tag}: the model summary does not say which step the Graphs tab shows:"
                        f" {summary[:300]}")
        return
    spans = {}
    gpu_events = 0
    for e in in_step:
        op = op_of(e, gpu_pids)
        if not op:
            continue
        gpu_events += e.get("pid") in gpu_pids
        parts = op.split("/")
        for k in range(1, len(parts) + 1):
            key = "/".join(parts[:k])
            lo, hi = spans.get(key, (e["ts"], e["ts"] + e["dur"]))
            spans[key] = (min(lo, e["ts"]), max(hi, e["ts"] + e["dur"]))
    print(f"    the step has {len(in_step)} events, {gpu_events} of them GPU work of an op")
    if expect_gpu and gpu_events == 0:
        failures.append(f"{tag}: the step has no GPU work of an op in the trace viewer")
    checked = 0
    for scope, s in sorted(shown["scopes"].items()):
        want = spans.get(scope)
        if want is None:
            if s["micros"] is not None:
                failures.append(f"{tag}: scope {scope} shows {s['micros']} us, not in the step")
            continue
        span_us = want[1] - want[0]
        got = s["micros"]
        limit = max(tolerance * span_us, 2.0)
        ok = got is not None and abs(got - span_us) <= limit
        print(f"    {'ok ' if ok else 'BAD'} {scope}: Graphs tab {got} us, trace viewer "
              f"{span_us:.1f} us, memory {s['bytes']} B")
        if not ok:
            failures.append(f"{tag}: scope {scope}: Graphs tab compute time {got} us, the trace "
                            f"viewer's span in the step {span_us:.1f} us")
        checked += 1
    for name, leaf in sorted(shown["leaves"].items()):
        base = re.sub(r"/\([^/]*\)$", "", name)
        if leaf["op"] in tb_http.OUTSIDE_OPS:
            if leaf["micros"] is not None:
                failures.append(f"{tag}: {name} ({leaf['op']}) shows {leaf['micros']} us of "
                                "compute time")
            if not leaf["bytes"]:
                failures.append(f"{tag}: {name} ({leaf['op']}) shows no memory")
            continue
        if leaf["micros"] is None:
            continue
        if leaf["micros"] > step_us + 2:
            failures.append(f"{tag}: {name} shows {leaf['micros']} us, longer than the step "
                            f"({step_us:.1f} us)")
        want = spans.get(base)
        if want is not None and abs(leaf["micros"] - (want[1] - want[0])) > max(
                tolerance * (want[1] - want[0]), 2.0):
            failures.append(f"{tag}: op {base}: Graphs tab {leaf['micros']} us, trace viewer "
                            f"{want[1] - want[0]:.1f} us")
    if checked == 0:
        failures.append(f"{tag}: no name scope to check")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--generator", help="program writing the log directory")
    p.add_argument("--generator-arg", action="append", default=[])
    p.add_argument("--logdir-flag", help="pass the log directory as FLAG DIR, not first")
    p.add_argument("--logdir", help="use this log directory instead of running a generator")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for the generator")
    p.add_argument("--tag", action="append", required=True)
    p.add_argument("--run", default=".")
    p.add_argument("--tolerance", type=float, default=0.01)
    p.add_argument("--expect-gpu", action="store_true",
                   help="the step must hold GPU work of the graph's ops")
    args = p.parse_args()
    try:
        import tensorboard  # noqa: F401
        from google.protobuf import text_format  # noqa: F401
        from xprof.convert import raw_to_tool_data  # noqa: F401
    except ImportError as e:
        print(f"SKIP: tensorboard or xprof is not importable ({e}); set TBPROF_TEST_VENV")
        return SKIP
    node_bin = shutil.which("node") or shutil.which("nodejs")
    if node_bin is None:
        print("SKIP: Node.js is not installed (needed to run TensorBoard's graph code)")
        return SKIP
    js = frontend_js()
    failures = []
    with tempfile.TemporaryDirectory(prefix="tbprof_graph_steps_") as tmp:
        logdir = args.logdir
        if logdir is None:
            logdir = os.path.join(tmp, "logs")
            env = dict(os.environ, TBPROF="1", TBPROF_LOGDIR=logdir)
            for kv in args.env:
                k, v = kv.split("=", 1)
                env[k] = v
            where = [args.logdir_flag, logdir] if args.logdir_flag else [logdir]
            gen = subprocess.run([args.generator] + where + args.generator_arg, env=env,
                                 capture_output=True, text=True)
            if gen.returncode != 0:
                print(f"FAIL: {args.generator} exited {gen.returncode}:\n{gen.stdout}\n"
                      f"{gen.stderr}")
                return 1
        views = tensorboard_view(logdir, args.run, args.tag, tmp)
        for tag in args.tag:
            if tag not in views:
                failures.append(f"{tag}: TensorBoard does not serve it")
                continue
            session = session_of(logdir, args.run, tag)
            if session is None:
                failures.append(f"{tag}: no profile session found for it")
                continue
            check_tag(tag, views[tag], trace_viewer_events(session), js, node_bin, failures,
                      args.tolerance, args.expect_gpu)
    for f in failures:
        print("FAIL:", f)
    print("graph step times:", "FAILED" if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
