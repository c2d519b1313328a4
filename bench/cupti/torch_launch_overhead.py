"""Launch-bound cost of torch.profiler's CUDA tracing, for comparison with tbprof's.

Times N single-element in-place adds (one tiny kernel each) untraced, then under
torch.profiler.profile(activities=[CPU, CUDA]), best of 5 batches each, and prints one JSON
object: untraced_ns_per_launch, traced_ns_per_launch, launches. Exit status 3 when torch or a
CUDA device is missing.

  python3 bench/cupti/torch_launch_overhead.py [N]
"""
import json
import sys
import time


def main():
  try:
    import torch
    from torch.profiler import ProfilerActivity, profile
  except ImportError as e:
    print(f'torch not available: {e}', file=sys.stderr)
    return 3
  if not torch.cuda.is_available():
    print('torch sees no CUDA device', file=sys.stderr)
    return 3
  n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
  x = torch.zeros(1, device='cuda')

  def batch():
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
      x.add_(1)
    torch.cuda.synchronize()
    return time.perf_counter() - t0

  batch()  # Warm-up.
  untraced = min(batch() for _ in range(5))
  with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]):
    batch()  # Warm-up with CUPTI in place.
    traced = min(batch() for _ in range(5))
  print(json.dumps({
      'launches': n,
      'untraced_ns_per_launch': untraced * 1e9 / n,
      'traced_ns_per_launch': traced * 1e9 / n,
      'torch': torch.__version__,
  }))
  return 0


if __name__ == '__main__':
  sys.exit(main())
