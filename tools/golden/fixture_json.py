"""Writing golden fixtures, shared by make_golden.py and make_lm_golden.py: compact deterministic JSON in
which every float is the shortest decimal that round-trips to its float32 value, gzip without a timestamp, and
atomic writes (a temporary file, then rename)."""
import gzip
import io
import json
import math
import os
import tempfile

import numpy as np
import torch


class Numbers:
    """A flat list of already formatted JSON number tokens."""
    __slots__ = ("tokens",)

    def __init__(self, tokens):
        self.tokens = tokens


class Scalar(Numbers):
    """A single number token written bare."""
    __slots__ = ()


def fmt32(x):
    v = np.float32(x)
    if not np.isfinite(v):
        raise ValueError("non-finite value %r" % (x,))
    s = str(v)
    if np.float32(float(s)) != v or (v == 0 and math.copysign(1.0, float(s)) != math.copysign(1.0, float(v))):
        raise ValueError("round-trip failure for %r -> %s" % (x, s))
    return s


def tensor(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    a32 = np.asarray(x).astype(np.float32)  # round to nearest from float64
    return {"shape": list(a32.shape), "data": Numbers([fmt32(v) for v in a32.ravel()])}


def dump(obj, out):
    """Compact deterministic JSON (insertion key order, ASCII only)."""
    if isinstance(obj, Numbers):
        out.append(obj.tokens[0] if isinstance(obj, Scalar) else "[" + ",".join(obj.tokens) + "]")
    elif isinstance(obj, dict):
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(k)))
            out.append(":")
            dump(v, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            dump(v, out)
        out.append("]")
    elif obj is None or isinstance(obj, (bool, str)):
        out.append(json.dumps(obj, ensure_ascii=True))
    elif isinstance(obj, (int, np.integer)):
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError("non-finite float")
        out.append(repr(obj))
    else:
        raise TypeError(type(obj))


def to_json_text(doc):
    parts = []
    dump(doc, parts)
    text = "".join(parts) + "\n"
    json.loads(text)  # valid JSON
    return text


def write_atomic(path, data):
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def gzip_bytes(text):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("ascii"))
    return buf.getvalue()


def opt_tensor(x):
    return None if x is None else tensor(x)
