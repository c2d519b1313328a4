"""Renders the model-summary goldens with TensorBoard's own markdown code (Text tab).

Checks that every golden becomes one HTML table with the header columns and one row per op,
that code spans and escapes survive, and that no markdown escape leaks as a backslash.
Exit 77 (skipped) when the TensorBoard virtual environment is not available.
"""
import html
import os
import re
import sys

# Op, type, output shape, executions, host ms total and mean, GPU ms, share.
COLUMNS = 8


def main(argv):
    testdata = argv[1]
    try:
        from tensorboard import plugin_util
    except ImportError as e:
        print(f"SKIP: tensorboard is not importable ({e}); set TBPROF_TEST_VENV")
        return 77
    failures = []
    for name in sorted(os.listdir(testdata)):
        if not name.startswith("model_summary") or not name.endswith(".md"):
            continue
        text = open(os.path.join(testdata, name), encoding="utf-8").read()
        out = plugin_util.markdown_to_safe_html(text)
        rows = [l for l in text.splitlines() if l.startswith("| `")]
        if out.count("<table>") != 1:
            failures.append(f"{name}: expected one <table>, got {out.count('<table>')}")
        if out.count("<th>") != COLUMNS:
            failures.append(f"{name}: expected {COLUMNS} header cells, got {out.count('<th>')}")
        body_rows = re.findall(r"<tr>\s*<td>", out)
        if len(body_rows) != len(rows) or not rows:
            failures.append(f"{name}: {len(rows)} markdown rows, {len(body_rows)} html rows")
        if out.count("<td>") != COLUMNS * len(rows):
            failures.append(f"{name}: {out.count('<td>')} cells for {len(rows)} rows")
        if out.count("<code>") != len(rows):
            failures.append(f"{name}: op names are not code spans")
        if "\\" in html.unescape(re.sub(r"<code>.*?</code>", "", out)):
            failures.append(f"{name}: a backslash escape shows literally:\n{out}")
        if not out.startswith("<p><strong>"):
            failures.append(f"{name}: header line is not bold text: {out[:80]}")
    for f in failures:
        print("FAIL:", f)
    print(f"checked goldens in {testdata}: {'FAILED' if failures else 'ok'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
