"""A small NumPy MLP annotated with Python's `nvtx` package (NVIDIA's, from PyPI), which knows
nothing of tbprof. `tbprof run -- python3 numpy_nvtx.py` captures its ranges through NVTX's
injection library: ranges of the "tbprof.ops" domain become framework ops."""
import numpy as np
import nvtx

rng = np.random.default_rng(0)
weights = [rng.standard_normal((256, 256)).astype(np.float32) for _ in range(3)]


def dense(x, w, name):
  with nvtx.annotate(f"{name}/MatMul:MatMul", domain="tbprof.ops"):
    y = x @ w
  with nvtx.annotate(f"{name}/Relu:Relu", domain="tbprof.ops"):
    return np.maximum(y, 0)


total = 0.0
for step in range(5):
  with nvtx.annotate("step", color="blue"):
    with nvtx.annotate("load_batch", color="green", category="input"):
      x = rng.standard_normal((64, 256)).astype(np.float32)
    with nvtx.annotate("forward"):
      for i, w in enumerate(weights):
        x = dense(x, w, f"dense_{i}")
  nvtx.mark("step_done")
  total += float(x.sum())
print(f"checksum {total:.3f}")
