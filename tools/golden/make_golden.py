#!/usr/bin/python3
"""Generate PyTorch golden fixtures for SeqSpark's RNN/GRU/LSTM, language-model
and optimizer tests.

Output: src/test/resources/golden/nn_golden.json.gz (relative to the repo root,
found from this script's location; override with --out PATH).

Numerics
--------
* Every random value (weights, inputs, initial states, loss weights, optimizer
  gradients) is drawn from numpy's PCG64 generator (np.random.default_rng(1234))
  as float32, uniform in [-1, 1); recurrent-layer weights are then scaled to
  PyTorch's init range [-1/sqrt(hidden), 1/sqrt(hidden)).  Token ids are drawn
  from the same generator.
* "recurrent" and "models" sections: the float32 values are converted exactly
  to float64 and the whole computation (forward and autograd backward) runs in
  float64 (`.double()` modules).  Results are rounded to float32 for writing.
* "optim" section: runs in float32 with the stock torch.optim optimizers and
  torch.nn.utils.clip_grad_norm_ (the Java side runs these in float32 too).
* Every number is written as the shortest decimal string that round-trips to
  its float32 value (numpy's str(np.float32(x))); the script asserts that each
  string parsed as a double and then rounded to float32 gives the value back,
  and that nothing is NaN or infinite.
* Deterministic: same seeds, single thread, fixed key order, gzip mtime=0 and
  no embedded file name, so two runs give byte-identical files.

File format (gzipped JSON)
--------------------------
A tensor is {"shape": [...], "data": [flat row-major numbers]}.  Top level:
{"generator", "torch", "dtype", "recurrent": [...], "models": [...], "optim": [...]}

* recurrent (256 cases): cell in {rnn_tanh, rnn_relu, gru, lstm} x num_layers
  {1,2} x bidirectional x bias x batch_first x h0 {given, zero} x lengths
  {equal (null), variable [5,2,4]}.  input_size 3, hidden 4, seq 5, batch 3.
  Keys: name, cell, input_size, hidden_size, num_layers, bias, bidirectional,
  batch_first, seq_len, batch, lengths, params (named_parameters() names and
  shapes), input, h0, c0, d_output, d_h_n, d_c_n, output, h_n, c_n,
  grad {param names..., input, h0, c0}.  Absent tensors are null.  With
  lengths, output is pad_packed_sequence(..., total_length=seq_len)[0].
  Loss = sum(output*d_output) + sum(h_n*d_h_n) [+ sum(c_n*d_c_n)].
* models (24 cases): d2l.ai RNNModel language model, cell {rnn_tanh, gru,
  lstm} x input {onehot, embedding} x num_layers {1,2} x lengths.  Keys: name,
  cell, vocab_size (7), embedding_dim (0 or 3), hidden_size, num_layers,
  seq_len, batch, lengths, tokens (batch x seq ints), targets, params
  (state_dict names: embedding.weight, rnn.*, linear.*), h0, c0, logits
  ((seq*batch, vocab), row t*batch+b), loss (mean cross-entropy over valid
  positions), h_n, c_n, grad {param names..., h0, c0}.
* optim (7 cases, float32): name, kind (sgd|adam|clip), hyper, params (3
  tensors), grads (per step), after (params after each step; for clip the
  clipped grads), total_norm (clip only).

Run:  /usr/bin/python3 tools/golden/make_golden.py [--out PATH]
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SEED = 1234
INPUT_SIZE = 3
HIDDEN = 4
SEQ = 5
BATCH = 3
VAR_LENGTHS = [5, 2, 4]  # unsorted on purpose
VOCAB = 7
EMB = 3

RNG = None  # set in main()


# ---------------------------------------------------------------- helpers

def rand32(shape):
    """float32 uniform in [-1, 1)."""
    a = RNG.random(size=tuple(shape), dtype=np.float32) * np.float32(2) - np.float32(1)
    return a.astype(np.float32)


def t64(a32):
    """float32 numpy array -> float64 torch tensor (exact)."""
    return torch.from_numpy(np.asarray(a32, dtype=np.float32).astype(np.float64))


from fixture_json import Numbers, Scalar, dump, fmt32, gzip_bytes, opt_tensor, tensor, to_json_text, write_atomic  # noqa: E402,F401


def scalar32(x):
    if isinstance(x, torch.Tensor):
        x = x.item()
    return Scalar([fmt32(x)])


# ---------------------------------------------------------------- recurrent

def make_rnn(cell, input_size, hidden, num_layers, bias, batch_first, bidirectional):
    kw = dict(input_size=input_size, hidden_size=hidden, num_layers=num_layers, bias=bias,
              batch_first=batch_first, bidirectional=bidirectional, dropout=0.0)
    if cell == "rnn_tanh":
        m = nn.RNN(nonlinearity="tanh", **kw)
    elif cell == "rnn_relu":
        m = nn.RNN(nonlinearity="relu", **kw)
    elif cell == "gru":
        m = nn.GRU(**kw)
    elif cell == "lstm":
        m = nn.LSTM(**kw)
    else:
        raise ValueError(cell)
    return m.double()


def fill_params(module):
    """Overwrite every parameter (named_parameters order) with fresh float32 randoms in PyTorch's own
    init range, uniform in [-1/sqrt(hidden), 1/sqrt(hidden)) (not PyTorch's values: our own draws, so
    that every number is exercised at the scale real models run at; wider weights make 2-layer ReLU
    activations grow to ~50, where float32 rounding alone exceeds the 1e-5 / 1e-6 tolerance)."""
    bound = np.float32(1.0 / math.sqrt(module.hidden_size))
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(t64((rand32(p.shape) * bound).astype(np.float32)))


def run_recurrent(m, x, state, lengths, batch_first, seq_len):
    """Returns (output padded, h_n[, c_n]) exactly as a user of PyTorch sees them."""
    if lengths is None:
        out, st = m(x, state) if state is not None else m(x)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths, dtype=torch.int64),
                                      batch_first=batch_first, enforce_sorted=False)
        pout, st = m(packed, state) if state is not None else m(packed)
        out, _ = pad_packed_sequence(pout, batch_first=batch_first, total_length=seq_len)
    return out, st


def recurrent_case(cell, num_layers, bidirectional, bias, batch_first, h0_given, var):
    is_lstm = cell == "lstm"
    dirs = 2 if bidirectional else 1
    lengths = list(VAR_LENGTHS) if var else None
    name = "%s_l%d_%s_%s_%s_%s_%s" % (cell, num_layers, "bi" if bidirectional else "uni",
                                      "bias" if bias else "nobias", "bf" if batch_first else "sf",
                                      "h0" if h0_given else "zeroh0", "var" if var else "eq")
    m = make_rnn(cell, INPUT_SIZE, HIDDEN, num_layers, bias, batch_first, bidirectional)
    fill_params(m)

    in_shape = (BATCH, SEQ, INPUT_SIZE) if batch_first else (SEQ, BATCH, INPUT_SIZE)
    x = t64(rand32(in_shape)).requires_grad_(True)
    st_shape = (num_layers * dirs, BATCH, HIDDEN)
    h0 = c0 = None
    if h0_given:
        h0 = t64(rand32(st_shape)).requires_grad_(True)
        if is_lstm:
            c0 = t64(rand32(st_shape)).requires_grad_(True)
    out_shape = (BATCH, SEQ, dirs * HIDDEN) if batch_first else (SEQ, BATCH, dirs * HIDDEN)
    d_out = t64(rand32(out_shape))
    d_hn = t64(rand32(st_shape))
    d_cn = t64(rand32(st_shape)) if is_lstm else None

    state = None
    if h0_given:
        state = (h0, c0) if is_lstm else h0
    out, st = run_recurrent(m, x, state, lengths, batch_first, SEQ)
    if is_lstm:
        hn, cn = st
    else:
        hn, cn = st, None
    assert tuple(out.shape) == out_shape, (out.shape, out_shape)
    assert tuple(hn.shape) == st_shape

    loss = (out * d_out).sum() + (hn * d_hn).sum()
    if is_lstm:
        loss = loss + (cn * d_cn).sum()
    names = [n for n, _ in m.named_parameters()]
    leaves = [p for _, p in m.named_parameters()] + [x]
    if h0 is not None:
        leaves.append(h0)
    if c0 is not None:
        leaves.append(c0)
    grads = torch.autograd.grad(loss, leaves)
    gi = iter(grads)
    grad = {}
    for n in names:
        grad[n] = tensor(next(gi))
    grad["input"] = tensor(next(gi))
    grad["h0"] = tensor(next(gi)) if h0 is not None else None
    grad["c0"] = tensor(next(gi)) if c0 is not None else None

    return {
        "name": name, "cell": cell, "input_size": INPUT_SIZE, "hidden_size": HIDDEN,
        "num_layers": num_layers, "bias": bias, "bidirectional": bidirectional,
        "batch_first": batch_first, "seq_len": SEQ, "batch": BATCH, "lengths": lengths,
        "params": {n: tensor(p) for n, p in m.named_parameters()},
        "input": tensor(x), "h0": opt_tensor(h0), "c0": opt_tensor(c0),
        "d_output": tensor(d_out), "d_h_n": tensor(d_hn), "d_c_n": opt_tensor(d_cn),
        "output": tensor(out), "h_n": tensor(hn), "c_n": opt_tensor(cn),
        "grad": grad,
    }


def recurrent_cases():
    cases = []
    for cell in ("rnn_tanh", "rnn_relu", "gru", "lstm"):
        for num_layers in (1, 2):
            for bidirectional in (False, True):
                for bias in (True, False):
                    for batch_first in (False, True):
                        for h0_given in (True, False):
                            for var in (False, True):
                                cases.append(recurrent_case(cell, num_layers, bidirectional, bias,
                                                            batch_first, h0_given, var))
    return cases


# ---------------------------------------------------------------- models (d2l RNNModel)

class RNNModel(nn.Module):
    """d2l.ai RNNModel, optionally with an embedding instead of one-hot."""

    def __init__(self, cell, vocab, emb_dim, hidden, num_layers):
        super().__init__()
        self.vocab_size = vocab
        self.emb_dim = emb_dim
        if emb_dim:
            self.embedding = nn.Embedding(vocab, emb_dim)
        in_size = emb_dim if emb_dim else vocab
        self.rnn = make_rnn(cell, in_size, hidden, num_layers, True, False, False)
        self.linear = nn.Linear(hidden, vocab)

    def forward(self, X, state, lengths):
        inputs = X.T  # (seq, batch)
        if self.emb_dim:
            x = self.embedding(inputs)
        else:
            x = F.one_hot(inputs, self.vocab_size).double()
        Y, state = run_recurrent(self.rnn, x, state, lengths, False, X.shape[1])
        logits = self.linear(Y.reshape(-1, Y.shape[-1]))
        return logits, state


def model_case(cell, emb, num_layers, var):
    is_lstm = cell == "lstm"
    emb_dim = EMB if emb else 0
    lengths = list(VAR_LENGTHS) if var else None
    name = "lm_%s_%s_l%d_%s" % (cell, "emb" if emb else "onehot", num_layers, "var" if var else "eq")
    model = RNNModel(cell, VOCAB, emb_dim, HIDDEN, num_layers).double()
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(t64(rand32(p.shape)))
    X = RNG.integers(0, VOCAB, size=(BATCH, SEQ))
    Yt = RNG.integers(0, VOCAB, size=(BATCH, SEQ))
    st_shape = (num_layers, BATCH, HIDDEN)
    h0 = t64(rand32(st_shape)).requires_grad_(True)
    c0 = t64(rand32(st_shape)).requires_grad_(True) if is_lstm else None
    state = (h0, c0) if is_lstm else h0

    Xt = torch.from_numpy(X.astype(np.int64))
    logits, st = model(Xt, state, lengths)
    hn, cn = (st if is_lstm else (st, None))
    y = torch.from_numpy(Yt.astype(np.int64)).T.reshape(-1)
    ce = F.cross_entropy(logits, y, reduction="none")
    lens = lengths if lengths is not None else [SEQ] * BATCH
    mask = torch.tensor([[1.0 if t < lens[b] else 0.0 for b in range(BATCH)] for t in range(SEQ)],
                        dtype=torch.float64).reshape(-1)
    loss = (ce * mask).sum() / mask.sum()

    names = [n for n, _ in model.named_parameters()]
    leaves = [p for _, p in model.named_parameters()] + [h0] + ([c0] if is_lstm else [])
    grads = torch.autograd.grad(loss, leaves)
    grad = {n: tensor(g) for n, g in zip(names, grads)}
    grad["h0"] = tensor(grads[len(names)])
    grad["c0"] = tensor(grads[len(names) + 1]) if is_lstm else None

    assert list(model.state_dict().keys()) == names
    return {
        "name": name, "cell": cell, "vocab_size": VOCAB, "embedding_dim": emb_dim,
        "hidden_size": HIDDEN, "num_layers": num_layers, "seq_len": SEQ, "batch": BATCH,
        "lengths": lengths,
        "tokens": [[int(v) for v in row] for row in X],
        "targets": [[int(v) for v in row] for row in Yt],
        "params": {n: tensor(p) for n, p in model.named_parameters()},
        "h0": tensor(h0), "c0": opt_tensor(c0),
        "logits": tensor(logits), "loss": scalar32(loss),
        "h_n": tensor(hn), "c_n": opt_tensor(cn),
        "grad": grad,
    }


def model_cases():
    cases = []
    for cell in ("rnn_tanh", "gru", "lstm"):
        for emb in (False, True):
            for num_layers in (1, 2):
                for var in (False, True):
                    cases.append(model_case(cell, emb, num_layers, var))
    return cases


# ---------------------------------------------------------------- optim

OPT_SHAPES = [(4, 3), (4,), (2, 5)]


def t32(a32):
    return torch.from_numpy(np.asarray(a32, dtype=np.float32).copy())


def optim_step_case(name, kind, hyper):
    p0 = [rand32(s) for s in OPT_SHAPES]
    params = [t32(a).requires_grad_(True) for a in p0]
    if kind == "sgd":
        opt = torch.optim.SGD(params, lr=hyper["lr"], momentum=hyper["momentum"],
                              dampening=hyper["dampening"], weight_decay=hyper["weight_decay"],
                              nesterov=hyper["nesterov"])
    else:
        opt = torch.optim.Adam(params, lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]),
                               eps=hyper["eps"], weight_decay=hyper["weight_decay"],
                               amsgrad=hyper["amsgrad"])
    grads, after = [], []
    for _ in range(3):
        g = [rand32(s) for s in OPT_SHAPES]
        for p, a in zip(params, g):
            p.grad = t32(a)
        opt.step()
        grads.append([tensor(a) for a in g])
        after.append([tensor(p) for p in params])
    return {"name": name, "kind": kind, "hyper": hyper,
            "params": [tensor(a) for a in p0], "grads": grads, "after": after}


def clip_case(name, max_norm, scale):
    p0 = [rand32(s) for s in OPT_SHAPES]
    g = [(rand32(s) * np.float32(scale)).astype(np.float32) for s in OPT_SHAPES]
    params = [t32(a).requires_grad_(True) for a in p0]
    for p, a in zip(params, g):
        p.grad = t32(a)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm, norm_type=2.0)
    assert total.dtype == torch.float32
    return {"name": name, "kind": "clip", "hyper": {"max_norm": max_norm, "norm_type": 2},
            "params": [tensor(a) for a in p0], "grads": [[tensor(a) for a in g]],
            "after": [[tensor(p.grad) for p in params]], "total_norm": scalar32(total)}


def optim_cases():
    def sgd(lr, momentum=0.0, weight_decay=0.0):
        return {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                "dampening": 0.0, "nesterov": False}

    def adam(lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        return {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
                "weight_decay": weight_decay, "amsgrad": False}

    cases = [
        optim_step_case("sgd_plain", "sgd", sgd(0.5)),
        optim_step_case("sgd_momentum", "sgd", sgd(0.1, momentum=0.9)),
        optim_step_case("sgd_momentum_wd", "sgd", sgd(0.1, momentum=0.9, weight_decay=0.01)),
        optim_step_case("adam_default", "adam", adam(0.01)),
        optim_step_case("adam_betas_eps_wd", "adam", adam(0.01, beta1=0.8, beta2=0.9, eps=1e-6,
                                                         weight_decay=0.1)),
        clip_case("clip_0.5", 0.5, 1.0),
        clip_case("clip_100", 100.0, 1.0),
    ]
    return cases


# ---------------------------------------------------------------- main

def default_out():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "src", "test", "resources", "golden", "nn_golden.json.gz")


def main(argv=None):
    global RNG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=default_out(), help="output .json.gz (default: %(default)s)")
    args = ap.parse_args(argv)

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    RNG = np.random.default_rng(SEED)
    torch.set_num_threads(1)

    doc = {
        "generator": "tools/golden/make_golden.py",
        "torch": torch.__version__,
        "dtype": "float64 computation, float32-rounded values",
        "recurrent": recurrent_cases(),
        "models": model_cases(),
        "optim": optim_cases(),
    }
    for section in ("recurrent", "models", "optim"):
        names = [c["name"] for c in doc[section]]
        assert len(names) == len(set(names)), "duplicate case names in " + section

    out = write_atomic(os.path.abspath(args.out), gzip_bytes(to_json_text(doc)))
    print("wrote %s (%d bytes; %d recurrent, %d models, %d optim cases)"
          % (out, os.path.getsize(out), len(doc["recurrent"]), len(doc["models"]), len(doc["optim"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
