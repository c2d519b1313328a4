"""Checks the flow events of Chrome traces (tbprof's <host>.trace.json.gz or `tbprof chrome`
output): every start ("s") has exactly one finish ("f", bp "e") with the same id, both inside a
slice of their thread; at least MIN producer -> consumer arrows go from thread FROM to TO.

  python3 check_chrome_flows.py TRACE.json[.gz] FROM_THREAD TO_THREAD MIN
"""
import gzip
import json
import sys

path, src, dst, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
opener = gzip.open if path.endswith('.gz') else open
events = json.load(opener(path, 'rt'))['traceEvents']
threads = {(e['pid'], e['tid']): e['args']['name'] for e in events
           if e.get('ph') == 'M' and e.get('name') == 'thread_name'}
slices = {}
for e in events:
  if e.get('ph') == 'X':
    slices.setdefault((e['pid'], e['tid']), []).append((e['ts'], e['ts'] + e['dur']))
starts = {e['id']: e for e in events if e.get('ph') == 's'}
finishes = {}
for e in events:
  if e.get('ph') == 'f':
    finishes.setdefault(e['id'], []).append(e)
failed = False
if sorted(starts) != sorted(finishes) or any(len(v) != 1 for v in finishes.values()):
  print(f'FAIL: {len(starts)} flow starts and {sum(map(len, finishes.values()))} finishes do not pair')
  failed = True
for e in list(starts.values()) + [f for v in finishes.values() for f in v]:
  if e.get('ph') == 'f' and e.get('bp') != 'e':
    print('FAIL: flow finish without bp "e"', e)
    failed = True
  if not any(b <= e['ts'] <= end for b, end in slices.get((e['pid'], e['tid']), [])):
    print('FAIL: flow event outside any slice of its thread', e)
    failed = True
arrows = sum(1 for i, s in starts.items() if s['cat'] == 'producer_consumer' and
             threads.get((s['pid'], s['tid'])) == src and
             threads.get((finishes[i][0]['pid'], finishes[i][0]['tid'])) == dst)
print(f'{len(starts)} arrows, {arrows} producer_consumer from {src!r} to {dst!r}')
if arrows < want:
  print(f'FAIL: expected at least {want} arrows from {src!r} to {dst!r}')
  failed = True
sys.exit(1 if failed else 0)
