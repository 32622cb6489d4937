#!/usr/bin/python3
"""Move SeqSpark language models into and out of PyTorch.

A SeqSpark model directory holds three files:

  config.json          {"format": "seqspark-model", "version": 1,
                        "cell": "gru" | "lstm" | "rnn_tanh" | "rnn_relu",
                        "vocab_size": V, "embedding_dim": 0 | E, "input_size": V | E,
                        "hidden_size": H, "num_layers": L, "bias": true, "dropout": 0.0,
                        "tokenizer": {"level": "char" | "word", "lowercase": false,
                                      "letters_only": false}}
  vocab.json           {"tokens": ["<unk>", ...]}      (list position = token id)
  weights.safetensors  float32 tensors named like RNNModel.state_dict():
                        embedding.weight (only if embedding_dim > 0),
                        rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0,
                        ... (each layer in turn) ..., linear.weight, linear.bias

and, written last, _SEQSPARK_COMMIT, the commit marker: {"format": "seqspark-commit", "version": 1,
"id": "<unique>", "written": <ms since 1970>, "files": ["config.json", ...]}. SeqSpark reads a model
directory on an object store (s3a:, gs:, ...) only when it has its marker; on a local disk or HDFS the
marker is optional (a directory there got into place by a rename).

The model is d2l.ai's concise RNNModel: one-hot (embedding_dim == 0) or nn.Embedding
input -> nn.RNN / nn.GRU / nn.LSTM (sequence-first, unidirectional) -> nn.Linear(H, V).
forward(X, state) takes X of shape (batch, seq) int64 and returns logits of shape
(seq * batch, V), row t * batch + b, plus the new state.

weights.safetensors layout (the public safetensors format, written here with struct + json):
8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON
{"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 "__metadata__": {"format": "pt"}}, padded with trailing spaces so that 8 + N is a
multiple of 8, then the raw little-endian float32 data, tensors back to back in
state_dict order (offsets are relative to the start of the data section).
Files written by the `safetensors` package (safetensors.torch.save_file) load as well,
as long as every tensor is F32.

Load a SeqSpark model in PyTorch
--------------------------------
    import sys; sys.path.insert(0, "tools")
    import seqspark_torch as st
    model, tokens, config = st.load_model_dir("path/to/model")   # float32, eval mode
    ids = st.token_ids("Tom said", tokens, config["tokenizer"])    # as SeqSpark tokenizes a record
    ll, per_token = st.log_likelihood(model, ids)                  # natural log, float64 math
    X = torch.tensor([ids])                                        # (batch 1, seq)
    logits, state = model(X, model.begin_state(1))                 # (seq, V)

Save a PyTorch model for SeqSpark
---------------------------------
    model = st.RNNModel("gru", vocab_size=len(tokens), hidden_size=256, num_layers=1)
    ... train it (d2l train_ch8 works unchanged) ...
    st.save_model_dir(model, tokens, "char", "path/to/new_model")  # refuses an existing dir

`tokens` must start with "<unk>" and have one entry per row of linear.weight.
Any d2l model built as RNNModel(nn.GRU(V, H), V) has the same state_dict names, so
its state_dict can be loaded into st.RNNModel("gru", V, H) and saved.

Command line
------------
  /usr/bin/python3 tools/seqspark_torch.py loglik MODEL_DIR TEXT_FILE
      prints {"tokens": n-1, "log_likelihood": ..., "perplexity": exp(-ll/(n-1))} of the whole
      file as one record, tokenized as the model's config says (text_tokens: char level, every
      code point including newlines is a token; word level, words split on whitespace)
  /usr/bin/python3 tools/seqspark_torch.py classify MODEL_DIR TEXT_FILE
      a classify model: one JSON line per line of the file, {"id", "prediction", "probability"}
  /usr/bin/python3 tools/seqspark_torch.py check MODEL_DIR
      loads the directory (validating it) and prints the config and parameter shapes

Sequence classifiers (config.json "task": "classify")
-----------------------------------------------------
  config.json  {"format": "seqspark-model", "version": 1, "task": "classify", "vocab_size": V,
                "embedding_dim": 0 | E, "blocks": [{"name": "lstm", "cell": "lstm", "input_size": I,
                "hidden_size": H, "num_layers": L, "bidirectional": false, "bias": true, "dropout": 0.0},
                ...], "pooling": "last" | "mean" | "max", "num_classes": C, "tokenizer": {...}}
  labels.json  {"labels": [name of class 0, name of class 1, ...]}
  vocab.json, weights.safetensors as above; tensors named like SequenceClassifier.state_dict():
               embedding.weight, <block>.weight_ih_l0, ..., fc.weight, fc.bias

    model, tokens, labels, config = st.load_classifier_dir("models/authorship")
    ref = LSTM_GRU(V, 128, 1, 2); ref.load_state_dict(model.state_dict())   # the issue's module
    st.save_classifier_dir(model, tokens, labels, config["tokenizer"], "models/back")
    st.classify(model, [st.classifier_ids(text, tokens, config)])         # [[p0, p1]]

Requires torch and numpy (tested with Debian's python3-torch 1.13); the SeqSpark Java
build and CI need neither.
"""

import collections
import copy
import json
import math
import os
import re
import shutil
import struct
import sys
import time
import unicodedata
import uuid

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "seqspark-model"
VERSION = 1
CELLS = ("gru", "lstm", "rnn_tanh", "rnn_relu")
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
WEIGHTS_FILE = "weights.safetensors"
UNK = "<unk>"
COMMIT_FILE = "_SEQSPARK_COMMIT"


# ---------------------------------------------------------------- model

class RNNModel(nn.Module):
    """d2l.ai's concise RNNModel (chapter 9.6), with an optional embedding instead of one-hot."""

    def __init__(self, cell, vocab_size, hidden_size, num_layers=1, embedding_dim=0,
                 bias=True, dropout=0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError("cell must be one of %s, got %r" % (CELLS, cell))
        self.cell = cell
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        if self.embedding_dim > 0:
            self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim)
        input_size = self.embedding_dim if self.embedding_dim > 0 else self.vocab_size
        kw = dict(input_size=input_size, hidden_size=self.hidden_size, num_layers=self.num_layers,
                  bias=bool(bias), dropout=float(dropout))
        if cell == "gru":
            self.rnn = nn.GRU(**kw)
        elif cell == "lstm":
            self.rnn = nn.LSTM(**kw)
        else:
            self.rnn = nn.RNN(nonlinearity=cell[4:], **kw)
        self.linear = nn.Linear(self.hidden_size, self.vocab_size)

    def forward(self, X, state):
        """X: (batch, seq) int64 -> (logits (seq*batch, V) with row t*batch+b, state)."""
        inputs = X.T
        if self.embedding_dim > 0:
            x = self.embedding(inputs.long())
        else:
            x = F.one_hot(inputs.long(), self.vocab_size).to(self.linear.weight.dtype)
        Y, state = self.rnn(x, state)
        return self.linear(Y.reshape((-1, Y.shape[-1]))), state

    def begin_state(self, batch_size=1, dtype=None):
        if dtype is None:
            dtype = self.linear.weight.dtype
        shape = (self.num_layers, batch_size, self.hidden_size)
        if self.cell == "lstm":
            return (torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype))
        return torch.zeros(shape, dtype=dtype)


def cell_of(rnn):
    if isinstance(rnn, nn.LSTM):
        return "lstm"
    if isinstance(rnn, nn.GRU):
        return "gru"
    if isinstance(rnn, nn.RNN):
        return "rnn_" + rnn.nonlinearity
    raise TypeError("unsupported recurrent layer %r" % type(rnn).__name__)


def normalize_tokenizer(tokenizer):
    if isinstance(tokenizer, str):
        tokenizer = {"level": tokenizer}
    tok = {"level": tokenizer.get("level", "char"),
           "lowercase": bool(tokenizer.get("lowercase", False)),
           "letters_only": bool(tokenizer.get("letters_only", False))}
    if tok["level"] not in ("char", "word"):
        raise ValueError("tokenizer level must be 'char' or 'word', got %r" % (tok["level"],))
    extra = set(tokenizer) - set(tok)
    if extra:
        raise ValueError("unknown tokenizer keys %s" % sorted(extra))
    return tok


def model_config(model, tokenizer="char"):
    """The config.json object describing `model` (an RNNModel, or any d2l-style module with
    attributes rnn, linear and optionally embedding)."""
    rnn = model.rnn
    if rnn.bidirectional or rnn.batch_first or getattr(rnn, "proj_size", 0):
        raise ValueError("only unidirectional, sequence-first recurrent layers without projection")
    emb = getattr(model, "embedding", None)
    embedding_dim = int(emb.embedding_dim) if isinstance(emb, nn.Embedding) else 0
    vocab_size = int(model.linear.out_features)
    input_size = embedding_dim if embedding_dim else vocab_size
    if rnn.input_size != input_size:
        raise ValueError("rnn.input_size %d != %d" % (rnn.input_size, input_size))
    if model.linear.in_features != rnn.hidden_size or model.linear.bias is None:
        raise ValueError("linear must be Linear(hidden_size, vocab_size) with bias")
    if embedding_dim and emb.num_embeddings != vocab_size:
        raise ValueError("embedding rows %d != vocab size %d" % (emb.num_embeddings, vocab_size))
    return collections.OrderedDict([
        ("format", FORMAT), ("version", VERSION), ("cell", cell_of(rnn)),
        ("vocab_size", vocab_size), ("embedding_dim", embedding_dim), ("input_size", input_size),
        ("hidden_size", int(rnn.hidden_size)), ("num_layers", int(rnn.num_layers)),
        ("bias", bool(rnn.bias)), ("dropout", float(rnn.dropout)),
        ("tokenizer", normalize_tokenizer(tokenizer)),
    ])


def expected_shapes(config):
    """state_dict names and shapes (in state_dict order) for a config."""
    V, E, H, L = (config["vocab_size"], config["embedding_dim"], config["hidden_size"],
                  config["num_layers"])
    gates = {"gru": 3, "lstm": 4, "rnn_tanh": 1, "rnn_relu": 1}[config["cell"]]
    out = collections.OrderedDict()
    if E > 0:
        out["embedding.weight"] = [V, E]
    for layer in range(L):
        in_size = (E if E > 0 else V) if layer == 0 else H
        out["rnn.weight_ih_l%d" % layer] = [gates * H, in_size]
        out["rnn.weight_hh_l%d" % layer] = [gates * H, H]
        if config["bias"]:
            out["rnn.bias_ih_l%d" % layer] = [gates * H]
            out["rnn.bias_hh_l%d" % layer] = [gates * H]
    out["linear.weight"] = [V, H]
    out["linear.bias"] = [V]
    return out


def validate_config(config):
    def need(cond, msg):
        if not cond:
            raise ValueError("bad config.json: " + msg)

    need(isinstance(config, dict), "not an object")
    need(config.get("format") == FORMAT, "format must be %r" % FORMAT)
    need(config.get("version") == VERSION, "unsupported version %r" % (config.get("version"),))
    need(config.get("cell") in CELLS, "cell must be one of %s" % (CELLS,))
    for key in ("vocab_size", "embedding_dim", "input_size", "hidden_size", "num_layers"):
        need(isinstance(config.get(key), int) and not isinstance(config.get(key), bool),
             key + " must be an integer")
    need(config["vocab_size"] >= 1 and config["hidden_size"] >= 1 and config["num_layers"] >= 1
         and config["embedding_dim"] >= 0, "sizes out of range")
    need(config["input_size"] == (config["embedding_dim"] or config["vocab_size"]),
         "input_size must equal embedding_dim, or vocab_size when embedding_dim is 0")
    need(isinstance(config.get("bias", True), bool), "bias must be a boolean")
    need(isinstance(config.get("dropout", 0.0), (int, float)), "dropout must be a number")
    normalize_tokenizer(config.get("tokenizer", "char"))


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered (name, float32 array-like) pairs; written back to back in that order."""
    header = collections.OrderedDict()
    blobs = []
    pos = 0
    for name, value in tensors:
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().to(torch.float32).numpy()
        a = np.ascontiguousarray(np.asarray(value, dtype=np.float32)).astype("<f4", copy=False)
        raw = a.tobytes(order="C")
        header[name] = collections.OrderedDict([("dtype", "F32"), ("shape", list(a.shape)),
                                                ("data_offsets", [pos, pos + len(raw)])])
        blobs.append(raw)
        pos += len(raw)
    header["__metadata__"] = collections.OrderedDict(
        sorted((metadata or {"format": "pt"}).items()))
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    h += b" " * ((-(8 + len(h))) % 8)  # data section starts at an 8-byte aligned file offset
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())


def read_safetensors(path):
    """-> (OrderedDict name -> float32 numpy array in header order, metadata dict).
    Checks dtype F32, shapes against offsets, and that the tensors exactly tile the data section."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise ValueError("%s: header length %d exceeds the file" % (path, n))
    try:
        header = json.loads(buf[8:8 + n].decode("utf-8"), object_pairs_hook=collections.OrderedDict)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("%s: bad header JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    out = collections.OrderedDict()
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") != "F32":
            raise ValueError("%s: tensor %s: dtype must be F32, got %r"
                             % (path, name, info.get("dtype") if isinstance(info, dict) else info))
        shape = info.get("shape")
        offs = info.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(offs, list) or len(offs) != 2
                or not all(isinstance(o, int) for o in offs)):
            raise ValueError("%s: tensor %s: bad shape/data_offsets" % (path, name))
        begin, end = offs
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)):
            raise ValueError("%s: tensor %s: offsets %s outside the data section (%d bytes)"
                             % (path, name, offs, len(data)))
        if end - begin != 4 * count:
            raise ValueError("%s: tensor %s: %d bytes for shape %s" % (path, name, end - begin, shape))
        spans.append((begin, end, name))
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float32).reshape(shape)
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise ValueError("%s: tensor %s: gap or overlap at byte %d" % (path, name, begin))
        pos = end
    if pos != len(data):
        raise ValueError("%s: %d trailing bytes after the last tensor" % (path, len(data) - pos))
    return out, metadata


# ---------------------------------------------------------------- model directories

def _write_json(path, obj, indent=None):
    text = json.dumps(obj, indent=indent, ensure_ascii=True,
                      separators=(",", ": ") if indent else (",", ":")) + "\n"
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def save_model_dir(model, tokens, tokenizer, out_dir):
    """Write `model` (RNNModel or a d2l-style equivalent) as a SeqSpark model directory.
    Written into out_dir + '.tmp-<pid>' and then renamed; refuses if out_dir exists."""
    out_dir = os.path.abspath(out_dir)
    if os.path.lexists(out_dir):
        raise FileExistsError("refusing to overwrite existing %s" % out_dir)
    config = model_config(model, tokenizer)
    tokens = [str(t) for t in tokens]
    if len(tokens) != config["vocab_size"]:
        raise ValueError("%d tokens for a vocabulary of %d" % (len(tokens), config["vocab_size"]))
    if not tokens or tokens[0] != UNK:
        raise ValueError("tokens[0] must be %r" % UNK)
    if len(set(tokens)) != len(tokens):
        raise ValueError("duplicate tokens in the vocabulary")
    state = model.state_dict()
    shapes = expected_shapes(config)
    if list(state.keys()) != list(shapes.keys()):
        raise ValueError("state_dict names %s, expected %s" % (list(state.keys()), list(shapes)))
    for name, shape in shapes.items():
        if list(state[name].shape) != shape:
            raise ValueError("%s has shape %s, expected %s" % (name, list(state[name].shape), shape))

    tmp = "%s.tmp-%d" % (out_dir, os.getpid())
    if os.path.lexists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    try:
        _write_json(os.path.join(tmp, CONFIG_FILE), config, indent=2)
        _write_json(os.path.join(tmp, VOCAB_FILE), collections.OrderedDict([("tokens", tokens)]))
        write_safetensors(os.path.join(tmp, WEIGHTS_FILE), list(state.items()), {"format": "pt"})
        _write_json(os.path.join(tmp, COMMIT_FILE), collections.OrderedDict([
            ("format", "seqspark-commit"), ("version", 1), ("id", uuid.uuid4().hex),
            ("written", int(time.time() * 1000)), ("files", [CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE])]))
        for name in (CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE, COMMIT_FILE):
            os.chmod(os.path.join(tmp, name), 0o644)
        os.chmod(tmp, 0o755)
        if os.path.lexists(out_dir):
            raise FileExistsError("refusing to overwrite existing %s" % out_dir)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return config


def load_model_dir(model_dir):
    """-> (RNNModel in float32 and eval mode, tokens list, config dict)."""
    with open(os.path.join(model_dir, CONFIG_FILE), encoding="utf-8") as f:
        config = json.load(f)
    validate_config(config)
    with open(os.path.join(model_dir, VOCAB_FILE), encoding="utf-8") as f:
        vocab = json.load(f)
    tokens = vocab.get("tokens") if isinstance(vocab, dict) else None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ValueError("bad vocab.json: need {\"tokens\": [strings]}")
    if len(tokens) != config["vocab_size"]:
        raise ValueError("vocab.json has %d tokens, config vocab_size %d"
                         % (len(tokens), config["vocab_size"]))
    if tokens[0] != UNK or len(set(tokens)) != len(tokens):
        raise ValueError("bad vocab.json: tokens[0] must be <unk> and tokens unique")
    arrays, _ = read_safetensors(os.path.join(model_dir, WEIGHTS_FILE))
    shapes = expected_shapes(config)
    if set(arrays) != set(shapes):
        raise ValueError("weights: tensors %s, expected %s" % (sorted(arrays), sorted(shapes)))
    for name, shape in shapes.items():
        if list(arrays[name].shape) != shape:
            raise ValueError("weights: %s has shape %s, expected %s"
                             % (name, list(arrays[name].shape), shape))
    model = RNNModel(config["cell"], config["vocab_size"], config["hidden_size"],
                     config["num_layers"], config["embedding_dim"], config.get("bias", True),
                     float(config.get("dropout", 0.0))).to(torch.float32)
    state = collections.OrderedDict((n, torch.from_numpy(arrays[n].copy())) for n in shapes)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, tokens, config


# ---------------------------------------------------------------- sequence classifiers (task "classify")

POOLINGS = ("last", "mean", "max")
LABELS_FILE = "labels.json"


def make_recurrent(cell, input_size, hidden_size, num_layers=1, bidirectional=False, dropout=0.0, bias=True,
                   batch_first=True):
    kw = dict(input_size=int(input_size), hidden_size=int(hidden_size), num_layers=int(num_layers),
              bias=bool(bias), dropout=float(dropout), bidirectional=bool(bidirectional),
              batch_first=batch_first)
    if cell == "gru":
        return nn.GRU(**kw)
    if cell == "lstm":
        return nn.LSTM(**kw)
    if cell in ("rnn_tanh", "rnn_relu"):
        return nn.RNN(nonlinearity=cell[4:], **kw)
    raise ValueError("cell must be one of %s, got %r" % (CELLS, cell))


class SequenceClassifier(nn.Module):
    """SeqSpark's sequence classifier as a PyTorch module: one-hot (embedding_dim 0) or nn.Embedding input ->
    recurrent blocks, each an attribute named block["name"] reading the previous one's output (batch_first) ->
    pooling over each record's valid steps -> self.fc = nn.Linear(D*H of the last block, num_classes).

    blocks: [{"name": "lstm", "cell": "lstm", "hidden_size": 128, "num_layers": 1, "bidirectional": False,
    "dropout": 0.0, "bias": True}, ...]. forward(X, lengths): X (batch, seq) int64 padded with any id, lengths
    (batch) -> logits (batch, classes). Variable lengths go through pack_padded_sequence(enforce_sorted=False),
    so no padding enters a state. Pooling: "last" = the top layer's h_n ([forward, reverse] for a bidirectional
    block: the forward direction's last valid step and the reverse direction's state after t = 0), "mean" and
    "max" over the valid steps.

    The issue's reference module (lstm -> gru -> fc on out[:, -1, :]) has the same state_dict names as
    SequenceClassifier(V, [{"name": "lstm", "cell": "lstm", ...}, {"name": "gru", "cell": "gru", ...}], C):
    ref.load_state_dict(model.state_dict()) and back. Its out[:, -1, :] equals "last" pooling when every
    record has the full length."""

    def __init__(self, vocab_size, blocks, num_classes, embedding_dim=0, pooling="last"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError("pooling must be one of %s, got %r" % (POOLINGS, pooling))
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.pooling = pooling
        self.num_classes = int(num_classes)
        if self.embedding_dim > 0:
            self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim)
        width = self.embedding_dim if self.embedding_dim > 0 else self.vocab_size
        self.blocks = []
        for b in blocks:
            b = normalize_block(b)
            if b["name"] in ("embedding", "fc", "blocks") or hasattr(self, b["name"]):
                raise ValueError("block name %r is taken" % b["name"])
            setattr(self, b["name"], make_recurrent(b["cell"], width, b["hidden_size"], b["num_layers"],
                                                    b["bidirectional"], b["dropout"], b["bias"]))
            self.blocks.append(b)
            width = b["hidden_size"] * (2 if b["bidirectional"] else 1)
        if not self.blocks:
            raise ValueError("at least one block")
        self.fc = nn.Linear(width, self.num_classes)

    def forward(self, X, lengths=None):
        X = torch.as_tensor(X, dtype=torch.int64)
        batch, steps = X.shape
        lengths = torch.full((batch,), steps, dtype=torch.int64) if lengths is None \
            else torch.as_tensor(lengths, dtype=torch.int64)
        if self.embedding_dim > 0:
            x = self.embedding(X)
        else:
            x = F.one_hot(X, self.vocab_size).to(self.fc.weight.dtype)
        h = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        state = None
        for b in self.blocks:
            h, state = getattr(self, b["name"])(h)
        out, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=steps)
        top = self.blocks[-1]
        if self.pooling == "last":
            hn = state[0] if isinstance(state, tuple) else state
            dirs = 2 if top["bidirectional"] else 1
            pooled = torch.cat([hn[hn.shape[0] - dirs + d] for d in range(dirs)], dim=1)
        elif self.pooling == "mean":
            pooled = out.sum(dim=1) / lengths.to(out.dtype).unsqueeze(1)
        else:
            valid = torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)
            pooled = out.masked_fill(~valid.unsqueeze(2), float("-inf")).max(dim=1).values
        return self.fc(pooled)


def normalize_block(b):
    out = collections.OrderedDict([
        ("name", str(b.get("name") or b["cell"].split("_")[0])), ("cell", b["cell"]),
        ("hidden_size", int(b["hidden_size"])), ("num_layers", int(b.get("num_layers", 1))),
        ("bidirectional", bool(b.get("bidirectional", False))), ("dropout", float(b.get("dropout", 0.0))),
        ("bias", bool(b.get("bias", True)))])
    if out["cell"] not in CELLS:
        raise ValueError("cell must be one of %s, got %r" % (CELLS, out["cell"]))
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", out["name"]):
        raise ValueError("block name %r is not an identifier" % out["name"])
    return out


def classifier_config(model, tokenizer="char"):
    """config.json of a SequenceClassifier."""
    blocks = []
    width = model.embedding_dim if model.embedding_dim > 0 else model.vocab_size
    for b in model.blocks:
        m = getattr(model, b["name"])
        if cell_of(m) != b["cell"] or m.input_size != width or getattr(m, "proj_size", 0):
            raise ValueError("block %s does not match its description" % b["name"])
        blocks.append(collections.OrderedDict([
            ("name", b["name"]), ("cell", b["cell"]), ("input_size", int(m.input_size)),
            ("hidden_size", int(m.hidden_size)), ("num_layers", int(m.num_layers)),
            ("bidirectional", bool(m.bidirectional)), ("bias", bool(m.bias)), ("dropout", float(m.dropout))]))
        width = m.hidden_size * (2 if m.bidirectional else 1)
    return collections.OrderedDict([
        ("format", FORMAT), ("version", VERSION), ("task", "classify"),
        ("vocab_size", model.vocab_size), ("embedding_dim", model.embedding_dim), ("blocks", blocks),
        ("pooling", model.pooling), ("num_classes", model.num_classes),
        ("tokenizer", normalize_tokenizer(tokenizer))])


def classifier_shapes(config):
    """state_dict names and shapes of a classify config, in state_dict order."""
    gates = {"gru": 3, "lstm": 4, "rnn_tanh": 1, "rnn_relu": 1}
    out = collections.OrderedDict()
    V, E = config["vocab_size"], config["embedding_dim"]
    if E > 0:
        out["embedding.weight"] = [V, E]
    width = E if E > 0 else V
    for b in config["blocks"]:
        G, H, D = gates[b["cell"]], b["hidden_size"], 2 if b.get("bidirectional") else 1
        for layer in range(b.get("num_layers", 1)):
            for d in range(D):
                sfx = "_l%d%s" % (layer, "_reverse" if d else "")
                out["%s.weight_ih%s" % (b["name"], sfx)] = [G * H, width if layer == 0 else D * H]
                out["%s.weight_hh%s" % (b["name"], sfx)] = [G * H, H]
                if b.get("bias", True):
                    out["%s.bias_ih%s" % (b["name"], sfx)] = [G * H]
                    out["%s.bias_hh%s" % (b["name"], sfx)] = [G * H]
        width = D * H
    out["fc.weight"] = [config["num_classes"], width]
    out["fc.bias"] = [config["num_classes"]]
    return out


def save_classifier_dir(model, tokens, labels, tokenizer, out_dir):
    """Write a SequenceClassifier (or any module with the same state_dict, such as the issue's LSTM_GRU once
    loaded into a SequenceClassifier) as a SeqSpark model directory: config.json ("task": "classify"),
    vocab.json, labels.json ({"labels": [name of class 0, ...]}), weights.safetensors. Refuses an existing dir."""
    out_dir = os.path.abspath(out_dir)
    if os.path.lexists(out_dir):
        raise FileExistsError("refusing to overwrite existing %s" % out_dir)
    config = classifier_config(model, tokenizer)
    tokens = [str(t) for t in tokens]
    labels = [str(x) for x in labels]
    if len(tokens) != config["vocab_size"] or not tokens or tokens[0] != UNK or len(set(tokens)) != len(tokens):
        raise ValueError("tokens: %d unique strings starting with %r expected" % (config["vocab_size"], UNK))
    if len(labels) != config["num_classes"] or len(set(labels)) != len(labels) or not all(labels):
        raise ValueError("labels: %d unique non-empty names expected" % config["num_classes"])
    state = model.state_dict()
    shapes = classifier_shapes(config)
    if list(state.keys()) != list(shapes.keys()):
        raise ValueError("state_dict names %s, expected %s" % (list(state.keys()), list(shapes)))
    for name, shape in shapes.items():
        if list(state[name].shape) != shape:
            raise ValueError("%s has shape %s, expected %s" % (name, list(state[name].shape), shape))
    tmp = "%s.tmp-%d" % (out_dir, os.getpid())
    if os.path.lexists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    try:
        _write_json(os.path.join(tmp, CONFIG_FILE), config, indent=2)
        _write_json(os.path.join(tmp, VOCAB_FILE), collections.OrderedDict([("tokens", tokens)]))
        _write_json(os.path.join(tmp, LABELS_FILE), collections.OrderedDict([("labels", labels)]))
        write_safetensors(os.path.join(tmp, WEIGHTS_FILE), list(state.items()), {"format": "pt"})
        for name in (CONFIG_FILE, VOCAB_FILE, LABELS_FILE, WEIGHTS_FILE):
            os.chmod(os.path.join(tmp, name), 0o644)
        os.chmod(tmp, 0o755)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return config


def load_classifier_dir(model_dir):
    """-> (SequenceClassifier in float32 and eval mode, tokens, labels, config)."""
    with open(os.path.join(model_dir, CONFIG_FILE), encoding="utf-8") as f:
        config = json.load(f)
    if not isinstance(config, dict) or config.get("format") != FORMAT or config.get("version") != VERSION:
        raise ValueError("bad config.json: not a SeqSpark model (version %d)" % VERSION)
    if config.get("task") != "classify":
        raise ValueError("config.json: task is %r, not 'classify' (use load_model_dir)" % config.get("task"))
    if config.get("pooling") not in POOLINGS:
        raise ValueError("bad config.json: pooling must be one of %s" % (POOLINGS,))
    with open(os.path.join(model_dir, VOCAB_FILE), encoding="utf-8") as f:
        tokens = json.load(f).get("tokens")
    with open(os.path.join(model_dir, LABELS_FILE), encoding="utf-8") as f:
        labels = json.load(f).get("labels")
    if not isinstance(tokens, list) or len(tokens) != config["vocab_size"] or tokens[0] != UNK:
        raise ValueError("bad vocab.json")
    if not isinstance(labels, list) or len(labels) != config["num_classes"]:
        raise ValueError("bad labels.json")
    model = SequenceClassifier(config["vocab_size"], config["blocks"], config["num_classes"],
                               config["embedding_dim"], config["pooling"]).to(torch.float32)
    arrays, _ = read_safetensors(os.path.join(model_dir, WEIGHTS_FILE))
    shapes = classifier_shapes(config)
    if list(arrays) != list(shapes) or any(list(arrays[n].shape) != s for n, s in shapes.items()):
        raise ValueError("weights: tensors %s, expected %s" % (
            [(n, list(a.shape)) for n, a in arrays.items()], list(shapes.items())))
    model.load_state_dict(collections.OrderedDict((n, torch.from_numpy(arrays[n].copy())) for n in shapes))
    model.eval()
    return model, tokens, labels, config


def classifier_ids(text, tokens, config):
    """A record's ids as a SeqSpark classifier sees it: token_ids, cut to config["max_length"] (0 or absent: no limit)."""
    ids = token_ids(text, tokens, config.get("tokenizer", "char"))
    n = int(config.get("max_length", 0) or 0)
    return ids[:n] if n > 0 else ids


def classify(model, ids_list):
    """Class probabilities (float64 math on a float64 copy) of records given as token-id lists, in one
    padded batch: -> list of [p(class 0), ...]. Every record needs at least one token."""
    m = copy.deepcopy(model).to(torch.float64).eval()
    lengths = [len(r) for r in ids_list]
    if min(lengths) < 1:
        raise ValueError("every record needs at least one token")
    X = torch.zeros((len(ids_list), max(lengths)), dtype=torch.int64)
    for i, r in enumerate(ids_list):
        X[i, :len(r)] = torch.tensor(r, dtype=torch.int64)
    with torch.no_grad():
        return F.softmax(m(X, lengths), dim=1).tolist()


# ---------------------------------------------------------------- scoring

def char_ids(text, tokens):
    """Char-level ids: one token per Unicode code point, unknown -> 0 (<unk>)."""
    index = {t: i for i, t in enumerate(tokens)}
    return [index.get(c, 0) for c in text]


def _java_whitespace(c):
    """Java's Character.isWhitespace, which SeqSpark's word tokenizer splits on: Unicode space
    separators except the no-break ones, plus tab, newline, VT, FF, CR and U+001C..U+001F."""
    if c in "\t\n\u000b\f\r\u001c\u001d\u001e\u001f":
        return True
    return unicodedata.category(c) in ("Zs", "Zl", "Zp") and c not in "\u00a0\u2007\u202f"


def text_tokens(text, tokenizer):
    """The tokens SeqSpark's Tokenizer.textTokens gives a whole record (no trailing newline token):
    lower-cased (Locale.ROOT) and/or letters-only cleaned as configured, then code points (char) or
    words split on Java's whitespace (word)."""
    tok = normalize_tokenizer(tokenizer)
    if tok["lowercase"]:
        text = text.lower()
    if tok["letters_only"]:
        text = re.sub("[^A-Za-z]+", " ", text).strip()
    if tok["level"] == "char":
        return list(text)
    words, cur = [], []
    for c in text:
        if _java_whitespace(c):
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        words.append("".join(cur))
    return words


def token_ids(text, tokens, tokenizer):
    """Ids of a record's tokens (text_tokens), unknown -> 0 (<unk>)."""
    index = {t: i for i, t in enumerate(tokens)}
    return [index.get(t, 0) for t in text_tokens(text, tokenizer)]


def log_likelihood(model, ids):
    """Natural-log likelihood of ids[1:] given the prefix, zero initial state, batch 1, one
    sequence. Computed in float64 on a float64 copy of the model.
    -> (sum of log-probs summed left to right, [per-token log-probs])."""
    ids = [int(i) for i in ids]
    if len(ids) < 2:
        raise ValueError("need at least 2 tokens")
    m = copy.deepcopy(model).to(torch.float64).eval()
    with torch.no_grad():
        X = torch.tensor(ids[:-1], dtype=torch.int64).reshape(1, -1)
        logits, _ = m(X, m.begin_state(1, torch.float64))
        logp = F.log_softmax(logits, dim=-1)
        target = torch.tensor(ids[1:], dtype=torch.int64)
        per = logp[torch.arange(len(ids) - 1), target].tolist()
    total = 0.0
    for v in per:
        total += v
    return total, per


# ---------------------------------------------------------------- CLI

def _cli_loglik(model_dir, text_file):
    model, tokens, config = load_model_dir(model_dir)
    with open(text_file, encoding="utf-8", newline="") as f:
        text = f.read()
    ids = token_ids(text, tokens, config.get("tokenizer", "char"))
    ll, _ = log_likelihood(model, ids)
    n = len(ids) - 1
    print(json.dumps({"tokens": n, "log_likelihood": ll, "perplexity": math.exp(-ll / n)}))


def _task(model_dir):
    with open(os.path.join(model_dir, CONFIG_FILE), encoding="utf-8") as f:
        return json.load(f).get("task", "lm")


def _cli_check(model_dir):
    if _task(model_dir) == "classify":
        model, tokens, labels, config = load_classifier_dir(model_dir)
        print("labels: %s" % labels)
    else:
        model, tokens, config = load_model_dir(model_dir)
    print(json.dumps(config))
    print("vocab: %d tokens" % len(tokens))
    total = 0
    for name, p in model.state_dict().items():
        print("%-20s %s" % (name, list(p.shape)))
        total += p.numel()
    print("parameters: %d" % total)


def _cli_classify(model_dir, text_file):
    model, tokens, labels, config = load_classifier_dir(model_dir)
    with open(text_file, encoding="utf-8") as f:
        for n, line in enumerate(f.read().splitlines()):
            ids = classifier_ids(line, tokens, config)
            if not ids:
                print(json.dumps({"id": n, "prediction": None, "probability": None}))
                continue
            p = classify(model, [ids])[0]
            best = max(range(len(p)), key=lambda k: (p[k], -k))
            print(json.dumps({"id": n, "prediction": labels[best],
                              "probability": collections.OrderedDict(zip(labels, p))}))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "loglik":
        _cli_loglik(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "classify":
        _cli_classify(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "check":
        _cli_check(argv[1])
    else:
        sys.stderr.write("usage: seqspark_torch.py loglik MODEL_DIR TEXT_FILE\n"
                         "       seqspark_torch.py classify MODEL_DIR TEXT_FILE\n"
                         "       seqspark_torch.py check MODEL_DIR\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
