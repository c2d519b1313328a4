"""Helpers the TensorBoard checks of this folder share: a free port, an HTTP GET, node types."""
import socket
import urllib.parse
import urllib.request

# Node types of tensors from outside the traced ops: memory, no compute time.
OUTSIDE_OPS = ("Const", "VariableV2", "Placeholder")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout, **params):
    """The body of GET http://127.0.0.1:port/path?params, decoded as UTF-8."""
    url = f"http://127.0.0.1:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8")
