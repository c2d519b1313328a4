"""Serves a tbprof log directory with the real TensorBoard and checks what it serves.

Runs GENERATOR (with the log directory as its argument and as TBPROF_LOGDIR, TBPROF=1), starts
`tensorboard --logdir` with the Python loader and with the Rust data server, and for every
expected tag checks over HTTP, as the browser would:
  - /data/plugin/graphs/info lists the tag with an op graph and profile data;
  - /data/plugin/graphs/graph returns the traced graph (expected nodes present or absent,
    every input names a node);
  - /data/plugin/graphs/run_metadata returns step stats that join with that graph under the
    rules of the Graphs tab (device names ending in device:<TYPE>:<N>, node_name equal to a
    graph node, all_end_rel_micros > 0 for ops, memory and no compute time for outside
    tensors (Const, VariableV2, Placeholder), a shape with every output), covering every node;
  - /data/plugin/text/text renders "<tag>/model_summary" as an HTML table;
  - /data/plugin/scalars/scalars has "<tag>/step_time_ms" points.
Exit 77 (skipped) when TensorBoard cannot be imported.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import tb_http  # This folder: shared with the other TensorBoard checks.

DEVICE_RE = re.compile(r"/device:([^:]+:[0-9]+)$")


def get(port, path, **params):
    return tb_http.get(port, path, 30, **params)


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, cond, msg):
        if not cond:
            self.failures.append(msg)
        return cond


def check_tag(c, port, run, tag, info, present, absent, gpu):
    from google.protobuf import text_format
    from tensorboard.compat.proto import config_pb2, graph_pb2

    item = info.get(run, {}).get("tags", {}).get(tag)
    if not c.expect(item is not None, f"{tag}: not in graphs/info {json.dumps(info)[:300]}"):
        return
    c.expect(item["op_graph"] and item["profile"], f"{tag}: info {item}")

    graph = graph_pb2.GraphDef()
    text_format.Parse(get(port, "/data/plugin/graphs/graph", run=run, tag=tag), graph)
    names = [n.name for n in graph.node]
    ops = {n.name: n.op for n in graph.node}
    c.expect(len(names) == len(set(names)), f"{tag}: duplicate node names")
    for n in present:
        c.expect(n in names, f"{tag}: node {n} missing from {names}")
    for n in absent:
        c.expect(n not in names, f"{tag}: node {n} should not be in the graph")
    for node in graph.node:
        for inp in node.input:
            src = inp.lstrip("^").split(":")[0]
            c.expect(src in names, f"{tag}: {node.name} input {inp} names no node")

    rm = config_pb2.RunMetadata()
    text_format.Parse(get(port, "/data/plugin/graphs/run_metadata", run=run, tag=tag), rm)
    c.expect(len(rm.function_graphs) == 1, f"{tag}: {len(rm.function_graphs)} function graphs")
    timed = set()
    devices = []
    for dev in rm.step_stats.dev_stats:
        devices.append(dev.device)
        if not c.expect(DEVICE_RE.search(dev.device), f"{tag}: device {dev.device} is dropped"):
            continue
        for s in dev.node_stats:
            c.expect(s.node_name in names, f"{tag}: stats for unknown node {s.node_name}")
            if ops.get(s.node_name) in tb_http.OUTSIDE_OPS:
                # Outside tensors: memory, no compute time.
                c.expect(s.all_end_rel_micros == 0 and sum(m.total_bytes for m in s.memory) > 0,
                         f"{tag}: {s.node_name} ({ops[s.node_name]}) has compute time or no "
                         "memory")
                timed.add(s.node_name)
                continue
            c.expect(s.all_end_rel_micros > 0, f"{tag}: {s.node_name} has no compute time")
            for out in s.output:
                c.expect(out.tensor_description.HasField("shape"),
                         f"{tag}: {s.node_name} output {out.slot} without shape")
            if s.all_end_rel_micros > 0:
                timed.add(s.node_name)
    c.expect(set(names) <= timed, f"{tag}: nodes without stats: {sorted(set(names) - timed)}")
    has_gpu = any("device:GPU:" in d for d in devices)
    if gpu is not None:
        c.expect(has_gpu == gpu, f"{tag}: GPU step stats {has_gpu}, expected {gpu}: {devices}")

    text = json.loads(get(port, "/data/plugin/text/text", run=run, tag=f"{tag}/model_summary"))
    c.expect(len(text) >= 1 and "<table>" in text[-1]["text"] and "<code>" in text[-1]["text"],
             f"{tag}: model summary did not render as a table: {str(text)[:300]}")
    scalars = json.loads(get(port, "/data/plugin/scalars/scalars", run=run,
                             tag=f"{tag}/step_time_ms"))
    c.expect(len(scalars) >= 1 and all(p[2] > 0 for p in scalars),
             f"{tag}: step_time_ms points {scalars}")
    # Each point at its own step's end: wall times increase with the step.
    walls = [p[0] for p in sorted(scalars, key=lambda p: p[1])]
    c.expect(all(a < b for a, b in zip(walls, walls[1:])),
             f"{tag}: step_time_ms points do not carry each step's wall time: {scalars}")
    print(f"  {tag}: {len(names)} nodes, {sum(len(d.node_stats) for d in rm.step_stats.dev_stats)}"
          f" node stats on {devices}, {len(scalars)} step points")


def serve_and_check(c, logdir, tmp, load_fast, args):
    port = tb_http.free_port()
    log = open(os.path.join(tmp, f"tensorboard_{load_fast}.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--port", str(port),
         "--host", "127.0.0.1", f"--load_fast={load_fast}", "--reload_interval", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        info = {}
        while time.time() < deadline:
            try:
                info = json.loads(get(port, "/data/plugin/graphs/info"))
                tags = info.get(args.run, {}).get("tags", {})
                if all(t in tags for t in args.tag):
                    break
            except (OSError, ValueError):
                pass
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        print(f"tensorboard --load_fast={load_fast} on port {port}:")
        for tag in args.tag:
            present = [n.split("=", 1)[1] for n in args.node if n.split("=", 1)[0] == tag]
            absent = [n.split("=", 1)[1] for n in args.no_node if n.split("=", 1)[0] == tag]
            check_tag(c, port, args.run, tag, info, present, absent, args.gpu)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--generator", required=True, help="program writing the log directory")
    p.add_argument("--tag", action="append", required=True)
    p.add_argument("--run", default=".", help="TensorBoard run name of the events file")
    p.add_argument("--node", action="append", default=[], help="TAG=NODE that must exist")
    p.add_argument("--no-node", action="append", default=[], help="TAG=NODE that must not")
    p.add_argument("--gpu", choices=["yes", "no"], default=None)
    args = p.parse_args()
    args.gpu = None if args.gpu is None else args.gpu == "yes"
    try:
        import tensorboard  # noqa: F401
        from google.protobuf import text_format  # noqa: F401
    except ImportError as e:
        print(f"SKIP: tensorboard is not importable ({e}); set TBPROF_TEST_VENV")
        return 77

    c = Checker()
    with tempfile.TemporaryDirectory(prefix="tbprof_graphs_check_") as tmp:
        logdir = os.path.join(tmp, "logs")
        env = dict(os.environ, TBPROF="1", TBPROF_LOGDIR=logdir)
        gen = subprocess.run([args.generator, logdir], env=env, capture_output=True, text=True)
        if gen.returncode != 0:
            print(f"FAIL: {args.generator} exited {gen.returncode}:\n{gen.stdout}\n{gen.stderr}")
            return 1
        for load_fast in ("false", "true"):
            serve_and_check(c, logdir, tmp, load_fast, args)
    for f in c.failures:
        print("FAIL:", f)
    print("graphs check:", "FAILED" if c.failures else "ok")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
