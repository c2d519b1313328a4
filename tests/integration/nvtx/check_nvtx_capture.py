"""Checks the Chrome trace (tbprof chrome) of nvtx_producer captured by `tbprof run`."""
import json
import sys

trace = json.load(open(sys.argv[1]))
events = trace["traceEvents"] if isinstance(trace, dict) else trace
summary = open(sys.argv[2]).read()
threads = {}
for e in events:
    if e.get("ph") == "M" and e.get("name") == "thread_name":
        threads[(e["pid"], e["tid"])] = e["args"]["name"]
spans = [e for e in events if e.get("ph") == "X"]
by_name = {}
for e in spans:
    by_name.setdefault(e["name"], []).append(e)

def need(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

need(len(by_name.get("forward", [])) == 3, "3 forward ranges")
need(len(by_name.get("dense_0/matmul:MatMul", [])) == 3, "3 dense_0/matmul:MatMul ops")
fwd = by_name["forward"][0]
mm = [e for e in by_name["dense_0/matmul:MatMul"] if fwd["ts"] <= e["ts"] <= fwd["ts"] + fwd["dur"]]
need(len(mm) == 1 and mm[0]["tid"] == fwd["tid"], "matmul nested in forward on the same thread")
need(threads.get((fwd["pid"], fwd["tid"])) == "engine main", "main thread named by NVTX")
load = by_name.get("load_batch [disk]", [])
need(len(load) == 1 and threads.get((load[0]["pid"], load[0]["tid"])) == "input thread",
     "registered string with category on the named input thread")
pre = by_name.get("prefetch", [])
need(len(pre) == 1 and "NVTX NVTX ranges" in threads.get((pre[0]["pid"], pre[0]["tid"]), ""),
     "start/end range ended on another thread on its own line")
need(len(by_name.get("step_done", [])) == 3, "marks")
need(sum(1 for n in by_name if n.startswith("distinct_")) == 10000, "10000 distinct names")
need("after_exit" not in by_name, "no range after exit")
need("doomed_range" in by_name, "range of the domain before it was destroyed")
for w in ("2 range pop(s) without a push", "1 range end(s) without a start",
          "call(s) on a destroyed domain"):
    need(w in summary, "warning: " + w)
need("dense_0/matmul" in summary and "dense_relu" in summary and "Tbprof_ops" in summary,
     "NVTX op-domain ranges counted as ops in the summary")
print("OK: NVTX ranges, ops, threads and warnings captured")
