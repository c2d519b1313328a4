#!/usr/bin/env python3
"""Screenshots of TensorBoard showing a tbprof log directory, taken with headless Chromium.

Starts `tensorboard --logdir LOGDIR` on loopback (a free port), drives Chromium through the
DevTools protocol (over --remote-debugging-pipe, no extra Python package needed) and saves:

  OUT/tensorboard_trace_viewer.png        Profile tab, trace viewer (host threads, ops, steps)
  OUT/tensorboard_framework_op_stats.png  Profile tab, framework op stats
  OUT/tensorboard_graphs_profile.png      Graphs tab, Profile view coloured by compute time

Usage:
  tools/screenshots.py --logdir LOGDIR [--out docs/images] [--venv /tmp/tbvenv]
                       [--chromium chromium] [--only NAME] [--keep-server]

Needs TensorBoard and xprof in the virtual environment (scripts/venv.sh) and Chromium.
Exit status 0 when every screenshot was taken; a page that never reached the state it waits
for is still saved, and reported (exit status 1).
"""

import argparse
import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def http_json(base, path, params=None, timeout=120):
  url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
  with urllib.request.urlopen(url, timeout=timeout) as r:
    data = r.read()
    if r.headers.get("Content-Encoding") == "gzip":
      data = gzip.decompress(data)
    return json.loads(data)


class TensorBoard:
  def __init__(self, venv, logdir, log_path):
    self.port = free_port()
    self.base = "http://127.0.0.1:%d" % self.port
    self.log = open(log_path, "wb")
    self.proc = subprocess.Popen(
        [os.path.join(venv, "bin", "tensorboard"), "--logdir", logdir, "--port", str(self.port),
         "--host", "127.0.0.1"], stdout=self.log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
      if self.proc.poll() is not None:
        raise RuntimeError("tensorboard exited; see " + log_path)
      try:
        http_json(self.base, "/data/plugins_listing", timeout=5)
        return
      except OSError:
        time.sleep(0.5)
    self.stop()
    raise RuntimeError("tensorboard did not answer within 120 s; see " + log_path)

  def stop(self):
    if self.proc.poll() is None:
      self.proc.terminate()
      try:
        self.proc.wait(timeout=15)
      except subprocess.TimeoutExpired:
        self.proc.kill()
        self.proc.wait()


class Chromium:
  """A headless Chromium driven over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

  def __init__(self, binary, width, height):
    to_chrome_r, self.to_chrome = os.pipe()
    self.from_chrome, from_chrome_w = os.pipe()

    def child_fds():
      # Via fresh copies, so that neither target number is one of the sources; dup2 leaves
      # fds 3 and 4 inheritable while the pipes' own fds close at exec.
      read_end, write_end = os.dup(to_chrome_r), os.dup(from_chrome_w)
      os.dup2(read_end, 3)
      os.dup2(write_end, 4)

    self.proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--enable-unsafe-swiftshader", "--hide-scrollbars", "--mute-audio",
         "--window-size=%d,%d" % (width, height), "about:blank"],
        close_fds=False, preexec_fn=child_fds,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    self.buffer = b""
    self.next_id = 0
    self.width, self.height = width, height
    target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    self.session = self.call("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
    self.call("Page.enable", session=True)
    self.call("Runtime.enable", session=True)
    self.call("Emulation.setDeviceMetricsOverride",
              {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
              session=True)

  def _read_message(self, timeout):
    deadline = time.time() + timeout
    while b"\0" not in self.buffer:
      if time.time() > deadline:
        raise TimeoutError("no answer from Chromium")
      chunk = os.read(self.from_chrome, 1 << 20)
      if not chunk:
        raise RuntimeError("Chromium closed the DevTools pipe")
      self.buffer += chunk
    message, self.buffer = self.buffer.split(b"\0", 1)
    return json.loads(message)

  def call(self, method, params=None, session=False, timeout=60):
    self.next_id += 1
    message = {"id": self.next_id, "method": method, "params": params or {}}
    if session:
      message["sessionId"] = self.session
    os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
    while True:
      reply = self._read_message(timeout)
      if reply.get("id") == self.next_id:
        if "error" in reply:
          raise RuntimeError("%s: %s" % (method, reply["error"]))
        return reply.get("result", {})

  def evaluate(self, expression):
    result = self.call("Runtime.evaluate",
                       {"expression": expression, "returnByValue": True, "awaitPromise": True},
                       session=True)
    return result.get("result", {}).get("value")

  def navigate(self, url):
    self.call("Page.navigate", {"url": url}, session=True)

  def wait_for(self, expression, timeout=60, poll=0.5):
    """Polls a JavaScript expression until it is truthy; returns its last value."""
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
      try:
        value = self.evaluate(expression)
      except RuntimeError:
        value = None
      if value:
        return value
      time.sleep(poll)
    return value

  def screenshot(self, path):
    data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
    with open(path, "wb") as f:
      f.write(base64.b64decode(data))

  def close(self):
    try:
      self.call("Browser.close", timeout=10)
    except (RuntimeError, TimeoutError, OSError):
      pass
    try:
      self.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
      self.proc.kill()


# JavaScript helpers: TensorBoard's Graphs tab is made of Polymer elements, each behind a
# shadow root, so lookups walk shadow roots too.
JS_HELPERS = r"""
function* tbWalk(root) {
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    yield n;
    if (n.shadowRoot) stack.push(n.shadowRoot);
    const ch = n.children || [];
    for (let i = ch.length - 1; i >= 0; --i) stack.push(ch[i]);
  }
}
function tbFind(tag, text) {
  for (const n of tbWalk(document)) {
    if (n.tagName && n.tagName.toLowerCase() === tag &&
        (text === undefined || n.textContent.trim() === text)) return n;
  }
  return null;
}
function tbClick(tag, text) { const n = tbFind(tag, text); if (n) n.click(); return !!n; }
function tbCount(selector) {
  let count = 0;
  for (const n of tbWalk(document)) if (n.matches && n.matches(selector)) ++count;
  return count;
}
// The text of the page and of every same-origin frame inside it (the profile plugin nests
// its tools in frames).
function tbFrameText(doc) {
  doc = doc || document;
  let text = doc.body ? doc.body.innerText : '';
  for (const n of tbWalk(doc)) {
    if (n.shadowRoot) text += '\n' + n.shadowRoot.textContent;
    if (n.tagName === 'IFRAME') {
      try { if (n.contentDocument) text += '\n' + tbFrameText(n.contentDocument); } catch (e) {}
    }
  }
  return text;
}
"""


def js(chrome, expression):
  return chrome.evaluate(JS_HELPERS + expression)


def wait_js(chrome, expression, timeout, poll=0.5):
  return chrome.wait_for(JS_HELPERS + expression, timeout=timeout, poll=poll)


def newest_profile(base):
  runs = http_json(base, "/data/plugin/profile/runs")
  if not runs:
    return None, None
  run = runs[0]  # Newest first.
  hosts = http_json(base, "/data/plugin/profile/hosts", {"run": run, "tag": "trace_viewer"})
  host = hosts[0]["hostname"] if hosts and isinstance(hosts[0], dict) else (hosts or [""])[0]
  return run, host


def shoot_trace_viewer(chrome, base, out, run, host):
  url = "%s/?%s#profile" % (base, urllib.parse.urlencode(
      {"run": run, "tag": "trace_viewer", "host": host}))
  chrome.navigate(url)
  # The trace viewer draws its tracks in a canvas inside the plugin frame; wait for the rows.
  ok = wait_js(chrome, "tbFrameText().includes('/host:CPU')", 120)
  time.sleep(4)
  chrome.screenshot(out)
  return bool(ok)


def shoot_framework_op_stats(chrome, base, out, run, host, expect):
  url = "%s/?%s#profile" % (base, urllib.parse.urlencode(
      {"run": run, "tag": "framework_op_stats", "host": host}))
  chrome.navigate(url)
  ok = wait_js(chrome, "tbFrameText().includes('Framework Operations')", 120)
  # Its charts and table come from Google Charts (loaded from www.gstatic.com); give them time.
  rendered = wait_js(chrome, "tbFrameText().includes(%s)" % json.dumps(expect), 20) if expect else True
  time.sleep(2)
  chrome.screenshot(out)
  if not rendered:
    print("note: framework_op_stats shows no op rows; its charts and table need Google Charts "
          "from www.gstatic.com, which this machine cannot reach", file=sys.stderr)
  return bool(ok)


def shoot_graphs_profile(chrome, base, out):
  info = http_json(base, "/data/plugin/graphs/info")
  run = tag = None
  for run_name, run_info in sorted(info.items()):
    for tag_name, tag_info in run_info.get("tags", {}).items():
      if tag_info.get("profile") and tag_info.get("op_graph"):
        run, tag = run_name, tag_name
  if run is None:
    print("note: no graph run metadata with step stats: Graphs tab screenshot skipped",
          file=sys.stderr)
    return False
  chrome.navigate("%s/#graphs&run=%s" % (base, urllib.parse.quote(run)))
  # The graph type can only be switched once the op graph is drawn: a click before that is
  # undone when the graph loads, and the step stats (and "Compute time") never arrive.
  if not wait_js(chrome, "tbCount('g.node') > 0", 60):
    return False
  if not wait_js(chrome, """(function(){
      const b = tbFind('paper-radio-button', 'Profile');
      if (!b) return false;
      const t = tbFind('paper-radio-button', 'Compute time');
      if (t && !t.disabled) return true;
      b.click();
      return false;})()""", 90, poll=3):
    return False
  wait_js(chrome, "tbCount('g.node') > 0", 60)
  # Open the outermost name scopes only, so that each layer shows as one box in its colour.
  js(chrome, """(function(){
      for (const n of tbWalk(document)) {
        if (n.matches && n.matches('g.node.meta:not(.expanded) > .nodeshape'))
          n.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));
      }})()""")
  time.sleep(2)
  time.sleep(2)
  # "Compute time" is enabled once the step stats are loaded; click until it is checked.
  colored = wait_js(chrome, """(function(){
      const b = tbFind('paper-radio-button', 'Compute time');
      if (!b || b.disabled) return false;
      if (!b.checked) b.click();
      return b.checked;})()""", 60)
  time.sleep(2)
  # Select the hottest scope below the outermost one: its Node Stats (memory, compute time
  # of the representative step) show in the info card.
  js(chrome, """(function(){
      let best = null, bestMicros = -1;
      for (const n of tbWalk(document)) {
        if (!n.matches || !n.matches('g.node.meta')) continue;
        const d = n.__data__;
        if (!d || !d.node || !d.node.stats || d.node.name.indexOf('/') < 0) continue;
        const micros = d.node.stats.getTotalMicros();
        if (micros > bestMicros) { best = n; bestMicros = micros; }
      }
      const shape = best && best.querySelector('.nodeshape');
      if (shape) shape.dispatchEvent(new MouseEvent('click', {bubbles: true}));
      return !!shape;})()""")
  time.sleep(2)
  # "Fit to screen": the innermost element with that text.
  js(chrome, """(function(){
      let hit = null;
      for (const n of tbWalk(document))
        if (n.textContent && n.textContent.trim() === 'Fit to screen') hit = n;
      if (hit) hit.click();
      return !!hit;})()""")
  time.sleep(3)
  chrome.screenshot(out)
  return bool(colored)


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--logdir", required=True)
  ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "images"))
  ap.add_argument("--venv", default=os.environ.get("TBPROF_TEST_VENV", "/tmp/tbvenv"))
  ap.add_argument("--chromium", default="chromium")
  ap.add_argument("--only", choices=["trace_viewer", "framework_op_stats", "graphs_profile"])
  ap.add_argument("--expect-op", default="", help="an op name the op stats page must show")
  args = ap.parse_args()
  os.makedirs(args.out, exist_ok=True)
  tb = TensorBoard(args.venv, args.logdir, os.path.join(args.out, ".tensorboard.log"))
  chrome = None
  failed = []
  try:
    chrome = Chromium(args.chromium, 1600, 1000)
    run, host = newest_profile(tb.base)
    pages = []
    if run is not None:
      pages.append(("trace_viewer", lambda p: shoot_trace_viewer(chrome, tb.base, p, run, host)))
      pages.append(("framework_op_stats", lambda p: shoot_framework_op_stats(
          chrome, tb.base, p, run, host, args.expect_op)))
    else:
      print("note: no profile session under %s" % args.logdir, file=sys.stderr)
    pages.append(("graphs_profile", lambda p: shoot_graphs_profile(chrome, tb.base, p)))
    for name, shoot in pages:
      if args.only and name != args.only:
        continue
      path = os.path.join(args.out, "tensorboard_%s.png" % name)
      ok = shoot(path)
      print("%s %s" % ("wrote" if ok else "FAILED", path))
      if not ok:
        failed.append(name)
  finally:
    if chrome is not None:
      chrome.close()
    tb.stop()
    try:
      os.remove(os.path.join(args.out, ".tensorboard.log"))
    except OSError:
      pass
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
