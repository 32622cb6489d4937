#!/usr/bin/python3
"""Generate PyTorch golden fixtures for SeqSpark's sequence classifier (task "classify").

Output: src/test/resources/golden/classify_golden.json.gz (relative to the repo root; --out PATH overrides),
and the model directory golden/classify_torch_model/ with golden/classify_torch_predictions.json.

The module is tools/seqspark_torch.SequenceClassifier: one-hot or nn.Embedding input -> recurrent blocks, each
reading the previous one's output -> pooling over every record's valid steps -> nn.Linear.  Variable lengths go
through pack_padded_sequence(enforce_sorted=False) (lengths deliberately unsorted), so padding never enters a
state.  Pooling: "last" = the top layer's h_n (torch.cat([h_n[-2], h_n[-1]]) for a bidirectional block),
"mean" = out.sum(1) / lengths, "max" = out.masked_fill(padding, -inf).max(1).values (gradient to the arg max).
Loss: F.cross_entropy(logits, targets, weight=class_weights) (mean, weighted when class_weights is given).
The script first checks that SequenceClassifier with blocks [lstm, gru] and "last" pooling gives the issue's
reference module LSTM_GRU's logits when every record has the full length (same state_dict, loaded both ways).

Numerics: values are float32 draws from numpy default_rng(SEED), uniform in [-1, 1) (recurrent weights scaled
to [-1/sqrt(H), 1/sqrt(H)), the head's to [-1/sqrt(in), 1/sqrt(in))), converted exactly to float64; every
computation runs in float64 (`.double()`); results are rounded to float32 and written as shortest float32
decimals (fixture_json).  Deterministic: fixed seeds, one thread, gzip mtime=0; two runs are byte-identical.

File format (gzipped JSON)
--------------------------
{"generator", "torch", "dtype", "cases": [...], "epochs": [...]}
* cases: {"name", "vocab_size", "embedding_dim", "blocks": [{"name", "cell", "hidden_size", "num_layers",
  "bidirectional"}], "pooling", "num_classes", "tokens" (batch x seq ints, padded with 0), "lengths",
  "targets", "class_weights" (null or a list), "params" {state_dict name: tensor}, "logits" (batch x classes),
  "loss", "grad" {state_dict name: tensor}}.
* epochs: one epoch of training from given weights: {"name", the model keys above, "records" (token-id lists),
  "labels", "batches" (lists of record indices, in training order; each batch padded to its longest record),
  "optimizer" ("sgd" | "adam"), "lr", "clip" (0: none), "class_weights", "initial" {params}, "batch_losses"
  (float64 reprs), "final" {params}}.  Per batch: logits, cross_entropy (weighted as given), zero_grad,
  backward, clip_grad_norm_(params, clip) when clip > 0, step (torch.optim.SGD(lr) / torch.optim.Adam(lr),
  defaults otherwise).

classify_torch_model/ and classify_torch_predictions.json
---------------------------------------------------------
The issue's reference LSTM_GRU (char one-hot, hidden 16, 1 layer each, 2 classes) trained by 60 Adam steps
(lr 0.01, batch 16, packed) on 200-character passages of the two books in data/ and ../shared/corpora
(tom_sawyer.txt -> "twain", dickens_old_curiosity_shop.txt -> "dickens"), then loaded into a
SequenceClassifier and saved with save_classifier_dir (char tokens, raw text); barely trained: it checks
numerics and the file format, not accuracy. predictions: {"texts",
"ids", "probabilities"} of 40 held-out passages plus one with out-of-vocabulary characters, float64 math on
the float32 weights, one record at a time. classify_java_predictions.json: the same for classify_java_model/, a
directory written by SeqSpark (ClassifierInteropTest.main: these weights perturbed, mean pooling, max_length 150),
when it exists; records cut to max_length as SeqSpark cuts them (seqspark_torch.classifier_ids).

Run:  /usr/bin/python3 tools/golden/make_classify_golden.py [--out PATH]
"""

import argparse
import collections
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(HERE))  # tools/
sys.path.insert(0, HERE)
import seqspark_torch as st  # noqa: E402
from fixture_json import Scalar, fmt32, gzip_bytes, tensor, to_json_text, write_atomic  # noqa: E402

GOLDEN = os.path.join(ROOT, "src", "test", "resources", "golden")
SEED = 4321
RNG = None


def rand32(shape):
    return (RNG.random(size=tuple(shape), dtype=np.float32) * np.float32(2) - np.float32(1)).astype(np.float32)


def t64(a32):
    return torch.from_numpy(np.asarray(a32, dtype=np.float32).astype(np.float64))


def scalar32(x):
    return Scalar([fmt32(float(x))])


class LSTM_GRU(nn.Module):  # the reference shape, verbatim from the issue
    def __init__(s, input_size, hidden, layers, classes):
        super().__init__()
        s.lstm = nn.LSTM(input_size, hidden, layers, batch_first=True)
        s.gru = nn.GRU(hidden, hidden, layers, batch_first=True)
        s.fc = nn.Linear(hidden, classes)

    def forward(s, x):  # x: (batch, seq, input_size)
        out, _ = s.lstm(x)
        out, _ = s.gru(out)
        return s.fc(out[:, -1, :])


def block(name, cell, hidden, layers=1, bi=False):
    return collections.OrderedDict([("name", name), ("cell", cell), ("hidden_size", hidden),
                                    ("num_layers", layers), ("bidirectional", bi)])


def fill(model):
    """Our own float32 draws at PyTorch's init scale, per tensor in state_dict order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("embedding."):
                bound = 1.0
            elif name.startswith("fc."):
                bound = 1.0 / math.sqrt(model.fc.in_features)
            else:
                bound = 1.0 / math.sqrt(getattr(model, name.split(".")[0]).hidden_size)
            p.copy_(t64((rand32(p.shape) * np.float32(bound)).astype(np.float32)))


def build(vocab, emb, blocks, pooling, classes):
    m = st.SequenceClassifier(vocab, blocks, classes, emb, pooling).double()
    fill(m)
    return m


def padded(records):
    lengths = [len(r) for r in records]
    X = torch.zeros((len(records), max(lengths)), dtype=torch.int64)
    for i, r in enumerate(records):
        X[i, :len(r)] = torch.tensor(r, dtype=torch.int64)
    return X, lengths


def model_keys(name, vocab, emb, blocks, pooling, classes):
    return collections.OrderedDict([("name", name), ("vocab_size", vocab), ("embedding_dim", emb),
                                    ("blocks", blocks), ("pooling", pooling), ("num_classes", classes)])


# ---------------------------------------------------------------- reference check

def check_reference():
    V, H, C = 6, 5, 3
    ref = LSTM_GRU(V, H, 2, C).double()
    ours = st.SequenceClassifier(V, [block("lstm", "lstm", H, 2), block("gru", "gru", H, 2)], C).double()
    fill(ours)
    ref.load_state_dict(ours.state_dict())
    X = torch.from_numpy(RNG.integers(0, V, size=(3, 7)).astype(np.int64))
    a = ref(F.one_hot(X, V).double())
    b = ours(X, [7, 7, 7])
    assert torch.allclose(a, b, rtol=0, atol=1e-12), (a, b)
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())


# ---------------------------------------------------------------- forward/backward cases

LENGTHS = [5, 2, 4, 1, 3]  # unsorted on purpose; T = 5


def case(name, vocab, emb, blocks, pooling, classes, weights=None):
    m = build(vocab, emb, blocks, pooling, classes)
    records = [[int(v) for v in RNG.integers(0, vocab, size=n)] for n in LENGTHS]
    targets = [int(v) for v in RNG.integers(0, classes, size=len(records))]
    X, lengths = padded(records)
    logits = m(X, lengths)
    w = None if weights is None else torch.tensor(weights, dtype=torch.float64)
    loss = F.cross_entropy(logits, torch.tensor(targets), weight=w)
    names = [n for n, _ in m.named_parameters()]
    grads = torch.autograd.grad(loss, [p for _, p in m.named_parameters()])
    out = model_keys(name, vocab, emb, blocks, pooling, classes)
    out.update([("tokens", [[int(v) for v in row] for row in X.tolist()]), ("lengths", lengths),
                ("targets", targets), ("class_weights", weights),
                ("params", collections.OrderedDict((n, tensor(p)) for n, p in m.named_parameters())),
                ("logits", tensor(logits)), ("loss", scalar32(loss)),
                ("grad", collections.OrderedDict((n, tensor(g)) for n, g in zip(names, grads)))])
    return out


def cases():
    ref = [block("lstm", "lstm", 4), block("gru", "gru", 4)]
    ref2 = [block("lstm", "lstm", 4, 2), block("gru", "gru", 3, 2)]
    bi = [block("gru", "gru", 4, 1, True), block("lstm", "lstm", 3, 2, True)]
    out = []
    for pooling in ("last", "mean", "max"):
        out.append(case("ref_lstm_gru_onehot_" + pooling, 7, 0, ref, pooling, 3))
        out.append(case("ref_lstm2_gru2_onehot_" + pooling, 7, 0, ref2, pooling, 3))
        out.append(case("emb_bigru_bilstm2_" + pooling, 9, 3, bi, pooling, 4))
    out.append(case("ref_lstm_gru_onehot_last_weighted", 7, 0, ref, "last", 3, [0.5, 2.0, 1.25]))
    out.append(case("emb_rnn_tanh_relu_mean_weighted", 8, 4,
                    [block("rnn", "rnn_tanh", 5), block("rnn2", "rnn_relu", 4, 1, True)], "mean", 2, [3.0, 0.75]))
    out.append(case("emb_single_bilstm_max", 6, 2, [block("lstm", "lstm", 4, 1, True)], "max", 5))
    return out


# ---------------------------------------------------------------- one training epoch

def epoch_case(name, vocab, emb, blocks, pooling, classes, optimizer, lr, clip, weights=None, n=42, batch=6):
    m = build(vocab, emb, blocks, pooling, classes)
    lengths = [int(v) for v in RNG.integers(1, 13, size=n)]
    records = [[int(v) for v in RNG.integers(0, vocab, size=k)] for k in lengths]
    # a learnable rule: the most frequent of tokens 1..classes (ties and none: class 0)
    labels = []
    for r in records:
        counts = [r.count(c + 1) for c in range(classes)]
        best = max(range(classes), key=lambda c: (counts[c], -c))
        labels.append(best if counts[best] > 0 else 0)
    # bucketed by length (ties by index), then the batches in a seeded random order
    order = sorted(range(n), key=lambda i: (lengths[i], i))
    batches = [order[i:i + batch] for i in range(0, n, batch)]
    perm = RNG.permutation(len(batches))
    batches = [batches[int(k)] for k in perm]
    initial = collections.OrderedDict((k, tensor(p)) for k, p in m.named_parameters())
    params = [p for _, p in m.named_parameters()]
    opt = torch.optim.SGD(params, lr=lr) if optimizer == "sgd" else torch.optim.Adam(params, lr=lr)
    w = None if weights is None else torch.tensor(weights, dtype=torch.float64)
    losses = []
    for b in batches:
        X, lens = padded([records[i] for i in b])
        loss = F.cross_entropy(m(X, lens), torch.tensor([labels[i] for i in b]), weight=w)
        opt.zero_grad()
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        losses.append(float(loss.item()))
    out = model_keys(name, vocab, emb, blocks, pooling, classes)
    out.update([("records", records), ("labels", labels), ("batches", batches), ("optimizer", optimizer),
                ("lr", lr), ("clip", clip), ("class_weights", weights), ("initial", initial),
                ("batch_losses", losses),
                ("final", collections.OrderedDict((k, tensor(p)) for k, p in m.named_parameters()))])
    return out


def epochs():
    ref = [block("lstm", "lstm", 8), block("gru", "gru", 8)]
    return [
        epoch_case("ref_lstm_gru_last_sgd_clip", 10, 0, ref, "last", 3, "sgd", 0.5, 1.0),
        epoch_case("ref_lstm_gru_last_adam", 10, 0, ref, "last", 3, "adam", 0.01, 0.0),
        epoch_case("emb_bigru_mean_adam_weighted_clip", 10, 5, [block("gru", "gru", 6, 1, True)], "mean", 3, "adam",
                   0.01, 1.0, [1.0, 2.0, 0.5]),
        epoch_case("emb_lstm2_bigru_max_sgd_clip", 11, 4,
                   [block("lstm", "lstm", 6, 2), block("gru", "gru", 5, 1, True)], "max", 2, "sgd", 0.3, 0.5),
    ]


# ---------------------------------------------------------------- a PyTorch-saved model directory

def passages(path, size, skip):
    with open(path, encoding="utf-8") as f:
        text = " ".join(f.read().split())
    return [text[i:i + size] for i in range(skip, len(text) - size, size)]


def torch_model():
    twain = passages(os.path.join(ROOT, "data", "tom_sawyer.txt"), 200, 2000)
    dickens_path = os.path.join(ROOT, "..", "shared", "corpora", "dickens_old_curiosity_shop.txt")
    if not os.path.exists(dickens_path):
        print("skipping classify_torch_model: %s not found" % dickens_path)
        return None
    dickens = passages(dickens_path, 200, 2000)
    train = [(p, 1) for p in twain[:400]] + [(p, 0) for p in dickens[:400]]
    held = [(p, 1) for p in twain[-20:]] + [(p, 0) for p in dickens[-20:]]
    counts = collections.Counter(c for p, _ in train for c in p)
    tokens = ["<unk>"] + [c for c, _ in sorted(counts.items(), key=lambda kv: -kv[1])]  # stable: first seen
    index = {t: i for i, t in enumerate(tokens)}
    V, H = len(tokens), 16
    ref = LSTM_GRU(V, H, 1, 2).double()
    torch.manual_seed(SEED)
    for p in ref.parameters():
        with torch.no_grad():
            p.copy_(t64(rand32(p.shape) * np.float32(1 / math.sqrt(H))))
    ours = st.SequenceClassifier(V, [block("lstm", "lstm", H), block("gru", "gru", H)], 2).double()
    ours.load_state_dict(ref.state_dict())
    opt = torch.optim.Adam(ours.parameters(), lr=0.01)
    order = np.random.default_rng(SEED).permutation(len(train))
    for step in range(60):
        b = [train[int(i)] for i in order[(step * 16) % len(train):][:16]]
        X, lens = padded([[index.get(c, 0) for c in p] for p, _ in b])
        loss = F.cross_entropy(ours(X, lens), torch.tensor([y for _, y in b]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    ref.load_state_dict(ours.state_dict())  # and back into the module
    model = ours.to(torch.float32)
    out_dir = os.path.join(GOLDEN, "classify_torch_model")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    tokenizer = {"level": "char", "lowercase": False, "letters_only": False}
    st.save_classifier_dir(model, tokens, ["dickens", "twain"], tokenizer, out_dir)
    texts = [p for p, _ in held] + ["\u00a7 Tom said \u2014 \u00e9t\u00e9 \u00a7"]
    predictions("classify_torch_model", "classify_torch_predictions.json", texts)
    java_dir = os.path.join(GOLDEN, "classify_java_model")
    if os.path.isdir(java_dir):
        predictions("classify_java_model", "classify_java_predictions.json", texts)
    else:
        print("skipping classify_java_predictions.json: %s not found (ClassifierInteropTest.main writes it)" % java_dir)
    return out_dir


def predictions(model_dir, out_name, texts):
    """PyTorch's probabilities for texts under a saved classifier, one record at a time, float64 math."""
    loaded, toks, labels, config = st.load_classifier_dir(os.path.join(GOLDEN, model_dir))
    ids = [st.classifier_ids(t, toks, config) for t in texts]
    probs = [st.classify(loaded, [r])[0] for r in ids]
    doc = collections.OrderedDict([("model", model_dir), ("labels", labels), ("texts", texts),
                                   ("ids", ids), ("probabilities", probs)])
    write_atomic(os.path.join(GOLDEN, out_name), to_json_text(doc).encode("ascii"))


def main(argv=None):
    global RNG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(GOLDEN, "classify_golden.json.gz"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    RNG = np.random.default_rng(SEED)
    check_reference()
    doc = collections.OrderedDict([
        ("generator", "tools/golden/make_classify_golden.py"), ("torch", torch.__version__),
        ("dtype", "float64 computation, float32-rounded values"), ("cases", cases()), ("epochs", epochs())])
    for section in ("cases", "epochs"):
        names = [c["name"] for c in doc[section]]
        assert len(names) == len(set(names)), section
    out = write_atomic(os.path.abspath(args.out), gzip_bytes(to_json_text(doc)))
    print("wrote %s (%d bytes; %d cases, %d epochs)" % (out, os.path.getsize(out), len(doc["cases"]),
                                                         len(doc["epochs"])))
    d = torch_model()
    if d:
        print("wrote %s" % d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
