#!/usr/bin/python3
"""PyTorch CPU reference for SeqSpark's sequence classifier, one thread: the same module (nn.Embedding ->
nn.LSTM -> nn.GRU -> nn.Linear on the last valid state, tools/seqspark_torch.SequenceClassifier, whose state_dict
is the issue's LSTM_GRU's plus the embedding), the same records (label<TAB>text, words lower-cased and letters
only, vocabulary '<unk>' then by frequency with ties in first-occurrence order, min_freq, max_vocab, as SeqSpark's)
and the same batches: records sorted by length and cut into batches of --batch, each padded to its longest record
and packed (pack_padded_sequence(enforce_sorted=False)), so padding never enters a state. The batch shapes equal
SeqSpark's whatever the order of records of equal length.

  train    forward, F.cross_entropy, zero_grad, backward, clip_grad_norm_(1.0), Adam(lr 0.002) step, per batch,
           the batches in a shuffled order, epoch after epoch
  forward  torch.no_grad forward and softmax, --batch records at a time (sorted by length)

One JSON line: tokens_per_second, records_per_second (wall, after --warmup seconds), tokens_per_cpu_second.

    /usr/bin/python3 tools/bench_classify.py train --data target/authorship/train.tsv --seconds 20
"""
import argparse
import collections
import json
import os
import random
import sys
import time

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("mode", choices=["train", "forward"])
p.add_argument("--data", required=True)
p.add_argument("--blocks", default="lstm:128,gru:128", help="CELL:HIDDEN[:bi][:layers=N],... (SeqSpark's syntax)")
p.add_argument("--pooling", default="last", choices=["last", "mean", "max"])
p.add_argument("--embedding", type=int, default=64)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--min-freq", type=int, default=2)
p.add_argument("--max-vocab", type=int, default=20000)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=20)
p.add_argument("--warmup", type=float, default=3)
a = p.parse_args()
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(a.threads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seqspark_torch as st  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(0)
TOKENIZER = {"level": "word", "lowercase": True, "letters_only": True}


def blocks(text):
    out = []
    for part in text.split(","):
        f = part.split(":")
        b = {"name": None, "cell": f[0], "hidden_size": int(f[1]), "num_layers": 1, "bidirectional": False}
        for o in f[2:]:
            if o == "bi":
                b["bidirectional"] = True
            elif o.startswith("layers="):
                b["num_layers"] = int(o[7:])
        out.append(b)
    names = collections.Counter(b["cell"].split("_")[0] for b in out)
    for i, b in enumerate(out):
        short = b["cell"].split("_")[0]
        b["name"] = short + str(i) if names[short] > 1 else short
    return out


def records(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if "\t" not in line:
                continue
            label, text = line.split("\t", 1)
            toks = st.text_tokens(text, TOKENIZER)
            if toks:
                texts.append(toks)
                labels.append(label)
    counts = collections.Counter(t for r in texts for t in r)     # first-occurrence order, stable sort
    vocab = ["<unk>"] + [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= a.min_freq]
    vocab = vocab[:a.max_vocab] if a.max_vocab > 0 else vocab
    index = {t: i for i, t in enumerate(vocab)}
    lc = collections.Counter(labels)
    names = sorted(lc, key=lambda n: (-lc[n], n))                # StringIndexer's order
    ids = [[index.get(t, 0) for t in r] for r in texts]
    return ids, [names.index(x) for x in labels], len(vocab), len(names)


ids, ys, V, C = records(a.data)
model = st.SequenceClassifier(V, blocks(a.blocks), C, a.embedding, a.pooling)
order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
batches = []
for k in range(0, len(order), a.batch):
    b = order[k:k + a.batch]
    lengths = [len(ids[i]) for i in b]
    X = torch.zeros((len(b), max(lengths)), dtype=torch.int64)
    for r, i in enumerate(b):
        X[r, :lengths[r]] = torch.tensor(ids[i])
    batches.append((X, torch.tensor(lengths), torch.tensor([ys[i] for i in b]), sum(lengths)))
opt = torch.optim.Adam(model.parameters(), lr=0.002)
rng = random.Random(0)


def train_step(b):
    X, lengths, y, _ = b
    loss = F.cross_entropy(model(X, lengths), y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def forward_step(b):
    X, lengths, _, _ = b
    with torch.no_grad():
        return F.softmax(model(X, lengths), dim=1)


step = train_step if a.mode == "train" else forward_step
if a.mode == "forward":
    model.eval()


def epochs():
    while True:
        idx = list(range(len(batches)))
        if a.mode == "train":
            rng.shuffle(idx)
        for i in idx:
            yield batches[i]


it = epochs()
end = time.time() + a.warmup
while time.time() < end:
    step(next(it))
t0, c0 = time.time(), time.process_time()
tokens = records_done = 0
while time.time() < t0 + a.seconds:
    b = next(it)
    step(b)
    tokens += b[3]
    records_done += len(b[1])
wall, cpu = time.time() - t0, time.process_time() - c0
print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "mode": a.mode, "blocks": a.blocks,
                  "pooling": a.pooling, "embedding": a.embedding, "vocab": V, "batch": a.batch, "threads": a.threads,
                  "records": records_done, "tokens": tokens, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                  "tokens_per_second": round(tokens / wall, 1), "records_per_second": round(records_done / wall, 1),
                  "tokens_per_cpu_second": round(tokens / cpu, 1)}))
