#!/usr/bin/python3
"""PyTorch CPU reference for a word-level language model: nn.Embedding (or one-hot) -> nn.RNN/GRU/LSTM ->
nn.Linear(H, V), the model SeqSpark trains (d2l's RNNModel, tools/seqspark_torch.py), on one thread.

  train    training-step throughput: forward, mean cross-entropy, backward, clip_grad_norm_(1.0), SGD, the
           state carried and detached between batches (d2l's train_epoch_ch8); random token ids (the cost
           does not depend on which tokens they are). One JSON line: tokens_per_second.
  forward  scoring throughput: forward only, no autograd, log_softmax over the vocabulary and the
           log-probability of the next token, the state carried across chunks of --steps tokens.
  model    writes a SeqSpark model directory (tools/seqspark_torch.save_model_dir) with PyTorch's default
           initialisation and the vocabulary of --corpus as SeqSpark builds it (letters-only, lower-case
           words; '<unk>' then the --max-vocab - 1 most frequent words, ties in first-occurrence order), for
           timing `seqspark score` on a model of exactly this shape.

    /usr/bin/python3 tools/bench_lm.py train --cell lstm --vocab 30000 --embedding 256 --hidden 512
    /usr/bin/python3 tools/bench_lm.py model --corpus TEXT --max-vocab 30000 --out DIR --cell lstm ...
"""
import argparse
import collections
import json
import os
import re
import sys
import time

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("mode", choices=["train", "forward", "model"])
p.add_argument("--cell", choices=["rnn_tanh", "gru", "lstm"], default="lstm")
p.add_argument("--layers", type=int, default=1)
p.add_argument("--hidden", type=int, default=512)
p.add_argument("--embedding", type=int, default=256, help="0: one-hot input")
p.add_argument("--vocab", type=int, default=30000)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--steps", type=int, default=35)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=20)
p.add_argument("--warmup", type=float, default=3)
p.add_argument("--corpus", help="model: the text whose vocabulary the model gets")
p.add_argument("--max-vocab", type=int, default=30000)
p.add_argument("--out", help="model: the model directory to write")
a = p.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(a.threads)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seqspark_torch as st  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(0)


def vocabulary(path, max_vocab):
    """SeqSpark's letters-only lower-case word vocabulary: <unk>, then by frequency, ties by first occurrence."""
    counts = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            counts.update(re.sub("[^A-Za-z]+", " ", line.lower()).split())
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])   # stable: Counter keeps first-occurrence order
    return ["<unk>"] + [w for w, _ in ordered if w != "<unk>"][:max_vocab - 1]


if a.mode == "model":
    tokens = vocabulary(a.corpus, a.max_vocab)
    model = st.RNNModel(a.cell, len(tokens), a.hidden, a.layers, a.embedding)
    st.save_model_dir(model, tokens, {"level": "word", "lowercase": True, "letters_only": True}, a.out)
    print(json.dumps({"model": a.out, "vocab": len(tokens)}))
    sys.exit(0)

model = st.RNNModel(a.cell, a.vocab, a.hidden, a.layers, a.embedding)
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
g = torch.Generator().manual_seed(1)
X = [torch.randint(0, a.vocab, (a.batch, a.steps), generator=g) for _ in range(8)]
Y = [torch.randint(0, a.vocab, (a.batch, a.steps), generator=g) for _ in range(8)]


def detach(s):
    return tuple(x.detach() for x in s) if isinstance(s, tuple) else s.detach()


def train_step(i, state):
    state = detach(state)
    logits, state = model(X[i % 8], state)
    loss = loss_fn(logits, Y[i % 8].T.reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return state


def forward_step(i, state):
    logits, state = model(X[i % 8], state)
    logp = torch.log_softmax(logits, -1)
    logp.gather(1, Y[i % 8].T.reshape(-1, 1)).sum()
    return state


step = train_step if a.mode == "train" else forward_step
ctx = torch.enable_grad() if a.mode == "train" else torch.no_grad()
with ctx:
    state = model.begin_state(a.batch)
    t0 = time.perf_counter()
    i = 0
    while time.perf_counter() - t0 < a.warmup:
        state = step(i, state)
        i += 1
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < a.seconds:
        state = step(i, state)
        i += 1
        n += a.batch * a.steps
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"impl": "torch-" + torch.__version__, "mode": a.mode, "cell": a.cell, "layers": a.layers,
                  "hidden": a.hidden, "embedding": a.embedding, "vocab": a.vocab, "batch": a.batch,
                  "steps": a.steps, "threads": a.threads, "tokens": n, "seconds": round(dt, 3),
                  "tokens_per_second": round(n / dt, 1), "tokens_per_cpu_second": round(n / cpu, 1)}))
