#!/usr/bin/python3
"""Generate PyTorch/d2l golden fixtures for SeqSpark's text pipeline, language-model
training loop and PyTorch model interchange.

Outputs (under src/test/resources/golden/, found from this script's location):

  text_golden.json          d2l Vocab, read_time_machine line cleaning, and d2l's
                            seq_data_iter_sequential / seq_data_iter_random on toy corpora
  lm_train_golden.json.gz   one epoch of d2l's train_epoch_ch8 (concise RNNModel) from
                            given initial weights, float64
  torch_model/              a GRU language model saved from PyTorch with
                            tools/seqspark_torch.py save_model_dir (config.json, vocab.json,
                            weights.safetensors)
  torch_model_loglik.json   log-likelihood of a text excerpt under torch_model
  java_model_loglik.json    the same for java_model/ -- only if that directory exists
                            (the Java side writes it); otherwise skipped with a message
  word_model/               a word-level 2-layer LSTM language model with an embedding,
                            saved from PyTorch
  word_model_scores.json    its per-record log-likelihoods of 300+ lines, and a greedy
                            continuation of a multi-word prefix

text_golden.json
----------------
{"generator", "vocab": [...], "letters_only": [...], "sequential": [...], "random": [...]}
* vocab: {"name", "tokens", "min_freq", "reserved", "idx_to_token"} -- d2l's Vocab
  (count tokens; Python's stable sort by descending frequency, so ties keep first-occurrence
  order; idx_to_token = ['<unk>'] + reserved, then the sorted tokens with freq >= min_freq
  that are not already present, stopping at the first token below min_freq). Tokens equal to
  '<unk>' or to a reserved token are not added twice.
* letters_only: {"name", "text", "lines", "joined"}: lines = d2l read_time_machine: the text
  read as a text-mode file (universal newlines: "\\n", "\\r\\n" and a lone "\\r" all end a line,
  like Java's BufferedReader.readLine / String.lines), each line ->
  re.sub('[^A-Za-z]+', ' ', line).strip().lower(); empty lines are kept. joined = SeqSpark's
  letters_only stream: the non-empty cleaned lines joined with single spaces.
* sequential: {"name", "corpus", "batch_size", "num_steps", "seed", "offset", "num_batches",
  "batches": [{"X", "Y"}]} -- d2l seq_data_iter_sequential after random.seed(seed);
  offset = random.randint(0, num_steps) (inclusive: 0..num_steps);
  num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size;
  Xs = corpus[offset : offset+num_tokens] as batch_size rows of num_tokens/batch_size,
  Ys = the same shifted by one; batch i = columns [i*num_steps, (i+1)*num_steps) of every
  row, for i < (num_tokens/batch_size) // num_steps.
* random: as sequential plus "initial_indices"; d2l seq_data_iter_random after
  random.seed(seed): offset = random.randint(0, num_steps - 1) (inclusive: 0..num_steps-1);
  c = corpus[offset:]; num_subseqs = (len(c) - 1) // num_steps;
  initial_indices = range(0, num_subseqs*num_steps, num_steps) after random.shuffle (the full
  shuffled list, positions relative to c, i.e. to corpus[offset:]);
  batch i uses initial_indices[i*batch_size : (i+1)*batch_size], X row = c[j : j+num_steps],
  Y row = c[j+1 : j+1+num_steps], for i < num_subseqs // batch_size.
  The recorded offset / indices come from replaying the same random calls; the script checks
  that they reproduce the d2l function's own output.

lm_train_golden.json.gz
-----------------------
{"generator", "torch", "dtype", "corpus_source", "idx_to_token", "cases": [...]}
Corpus: tom_sawyer.txt, each line (universal newlines) ->
re.sub('[^A-Za-z]+', ' ', line).strip().lower(), empty lines dropped, the rest joined with
single spaces, first 3000 characters; char tokens; vocab d2l-style built from those 3000
characters (['<unk>'] then descending frequency, ties in first-occurrence order; '<unk>'
itself never occurs). Only the ids are stored ("corpus"), plus idx_to_token for reference.
Case: {"name", "cell", "hidden_size", "num_layers", "vocab_size", "embedding_dim" (0: one-hot),
"batch_size", "num_steps", "optimizer" ("sgd" | "adam"), "lr", "hyper" (all optimizer
hyper-parameters), "clip", "offset", "seed", "num_batches", "corpus", "initial", "batch_losses",
"final", "perplexity"}.
Training = d2l train_epoch_ch8 with the concise RNNModel for one epoch: sequential
partitioning at offset 0 (no random), zero state for the first batch, then the state is
carried over and detached; per batch: logits (num_steps*batch, V) rows t*batch+b; loss =
nn.CrossEntropyLoss() (mean) against Y.T.reshape(-1); zero_grad; backward;
torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0) (total = L2 norm of all grads,
coef = min(1, 1.0 / (total + 1e-6)), every grad multiplied by coef); optimizer step
(torch.optim.SGD(lr=1.0) or torch.optim.Adam(lr=0.01), defaults otherwise).
Initial weights: numpy default_rng(seed), float32 uniform in [-0.25, 0.25) (rng.random as
float32 * 0.5 - 0.25), drawn per tensor in state_dict order, converted exactly to float64;
the whole computation runs in float64. batch_losses and perplexity = exp(mean of
batch_losses) are float64 reprs; tensors {"shape", "data" (flat row-major)} are written as
shortest float32 decimals.

torch_model/ and *_loglik.json
------------------------------
GRU, hidden 32, 1 layer, one-hot input. Vocabulary: the first 20000 characters of
tom_sawyer.txt as they are (every code point including '\\n' is a token), d2l order.
Weights: numpy default_rng float32 uniform in [-1/sqrt(32), 1/sqrt(32)), then 100 SGD steps
(lr 1, clip_grad_norm_ 1.0, batch 8, num_steps 20, sequential at offset 0, state carried and
detached) computed in float64, then rounded to float32 and saved with save_model_dir.
loglik JSON: {"model", "text", "ids", "tokens": n-1, "log_likelihood", "perplexity",
"token_log_probs"}: text = a 400-character excerpt from later in the book with "\\u00a7"
(not in the vocabulary -> <unk>, id 0) inserted in the middle (401 code points);
ids = one per code point; log_likelihood = seqspark_torch.log_likelihood (zero state, batch 1,
one sequence of ids[0..n-2], sum of log_softmax(logits)[i-1][ids[i]], float64 on the
float32 weights, summed left to right).

word_model/ and word_model_scores.json
--------------------------------------
Word tokens (tokenizer {"level": "word", "lowercase": true, "letters_only": true}): the words of
the first WORD_LINES lines of tom_sawyer.txt, lower-cased and letters-only cleaned
(seqspark_torch.text_tokens), as SeqSpark's letters-only word stream;
vocabulary in d2l order ('<unk>' first, never occurring). Model: seqspark_torch.RNNModel("lstm",
V, hidden 24, 2 layers, embedding_dim 16); weights uniform in [-1/sqrt(24), 1/sqrt(24)) from
default_rng(WORD_SEED), then WORD_UPDATES SGD steps (lr 1, clip 1, batch 16, num_steps 10,
sequential at offset 0, state carried and detached) in float64, rounded to float32 and saved.
Scores JSON: {"model", "tokenizer", "records": [texts], "ids": [[...]], "tokens": [n-1 or 0],
"log_likelihood": [...], "generate": {"prefix", "length", "ids", "text", "min_margin"}}: the
records are lines WORD_SCORE_FROM.. of the book as they are (empty lines included), one line
with an out-of-vocabulary word, and one long record of WORD_LONG_LINES lines joined by spaces
(longer than SeqSpark's 256-step scoring chunk); log_likelihood as for torch_model (float64 on
the float32 weights, state from zeros per record), 0 with tokens 0 for records of fewer than 2
tokens. generate: greedy (argmax) continuation of the prefix's tokens by WORD_GEN_LENGTH tokens,
float64 on the float32 weights, as d2l's predict_ch8; min_margin is the smallest gap between the
best and second-best logit over those steps (checked > 1e-3 so that float32 cannot flip it).

Deterministic: fixed seeds, single thread, fixed key order, gzip mtime=0 without a file name;
two runs give byte-identical outputs. Every file is written to a temp file and renamed.

Run:  /usr/bin/python3 tools/golden/make_lm_golden.py [--corpus PATH]
"""

import argparse
import collections
import copy
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(HERE))  # tools/
import seqspark_torch as st  # noqa: E402

GOLDEN = os.path.join(ROOT, "src", "test", "resources", "golden")
DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "tom_sawyer.txt")
CORPUS_SHA256 = "461eb7cb2d57d293fc680c836464c9125e4382be3596f7d415093ae9db8fcb0e"


# ---------------------------------------------------------------- d2l, verbatim (PyTorch edition)
# d2l/torch.py uses d2l.tensor == torch.tensor.
d2l = types.SimpleNamespace(tensor=torch.tensor)


def count_corpus(tokens):  #@save
    """Count token frequencies."""
    # Here `tokens` is a 1D list or 2D list
    if len(tokens) == 0 or isinstance(tokens[0], list):
        # Flatten a list of token lists into a list of tokens
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)


class Vocab:  #@save
    """Vocabulary for text."""
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        if tokens is None:
            tokens = []
        if reserved_tokens is None:
            reserved_tokens = []
        # Sort according to frequencies
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1],
                                   reverse=True)
        # The index for the unknown token is 0
        self.idx_to_token = ['<unk>'] + reserved_tokens
        self.token_to_idx = {token: idx
                             for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    @property
    def unk(self):  # Index for the unknown token
        return 0


def seq_data_iter_random(corpus, batch_size, num_steps):  #@save
    """Generate a minibatch of subsequences using random sampling."""
    # Start with a random offset (inclusive of `num_steps - 1`) to partition a
    # sequence
    corpus = corpus[random.randint(0, num_steps - 1):]
    # Subtract 1 since we need to account for labels
    num_subseqs = (len(corpus) - 1) // num_steps
    # The starting indices for subsequences of length `num_steps`
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    # In random sampling, the subsequences from two adjacent random
    # minibatches during iteration are not necessarily adjacent on the
    # original sequence
    random.shuffle(initial_indices)

    def data(pos):
        # Return a sequence of length `num_steps` starting from `pos`
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        # Here, `initial_indices` contains randomized starting indices for
        # subsequences
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield d2l.tensor(X), d2l.tensor(Y)


def seq_data_iter_sequential(corpus, batch_size, num_steps):  #@save
    """Generate a minibatch of subsequences using sequential partitioning."""
    # Start with a random offset to partition a sequence
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = d2l.tensor(corpus[offset: offset + num_tokens])
    Ys = d2l.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y


# ---------------------------------------------------------------- our replays of the d2l maths

def vocab_old_d2l(tokens, min_freq, reserved):
    """The older d2l formulation (list comprehension, no break): must give the same list."""
    counter = count_corpus(tokens)
    token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
    uniq_tokens = ['<unk>'] + reserved
    uniq_tokens += [token for token, freq in token_freqs
                    if freq >= min_freq and token not in uniq_tokens]
    return uniq_tokens


def d2l_lines(text):
    """read_time_machine on `text` as if it were the file: text-mode readlines() (universal
    newlines), then the letters-only cleaning of every line."""
    lines = io.StringIO(text, newline=None).readlines()
    return [re.sub('[^A-Za-z]+', ' ', line).strip().lower() for line in lines]


def letters_only_stream(text):
    """SeqSpark letters_only: cleaned non-empty lines joined with single spaces."""
    return " ".join(line for line in d2l_lines(text) if line)


def d2l_vocab_order(tokens):
    return Vocab(tokens).idx_to_token


def sequential_partition(corpus, batch_size, num_steps, offset):
    """seq_data_iter_sequential's batches for a given offset, as nested lists."""
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    xs = list(corpus[offset: offset + num_tokens])
    ys = list(corpus[offset + 1: offset + 1 + num_tokens])
    row = num_tokens // batch_size
    Xs = [xs[b * row:(b + 1) * row] for b in range(batch_size)]
    Ys = [ys[b * row:(b + 1) * row] for b in range(batch_size)]
    out = []
    for i in range(0, num_steps * (row // num_steps), num_steps):
        out.append(([r[i:i + num_steps] for r in Xs], [r[i:i + num_steps] for r in Ys]))
    return out


def random_partition(corpus, batch_size, num_steps, offset, initial_indices):
    c = corpus[offset:]
    num_subseqs = (len(c) - 1) // num_steps
    out = []
    for i in range(0, batch_size * (num_subseqs // batch_size), batch_size):
        per = initial_indices[i:i + batch_size]
        out.append(([list(c[j:j + num_steps]) for j in per],
                    [list(c[j + 1:j + 1 + num_steps]) for j in per]))
    return out


def as_lists(batches):
    return [([[int(v) for v in row] for row in X.tolist()],
             [[int(v) for v in row] for row in Y.tolist()]) for X, Y in batches]


# ---------------------------------------------------------------- formatting / writing

from fixture_json import Numbers, Scalar, dump, fmt32, gzip_bytes, tensor, to_json_text, write_atomic  # noqa: E402,F401


# ---------------------------------------------------------------- a) text_golden.json

VOCAB_CASES = [
    # (name, tokens, min_freq, reserved)
    ("char_sentence_ties", list("the quick brown fox jumps over the lazy dog"), 1, []),
    ("char_min_freq_0_default", list("abracadabra, abba!"), 0, []),
    ("char_min_freq_2", list("mississippi river banks"), 2, []),
    ("word_tokens", "the cat sat on the mat and the dog sat on the log".split(), 1, []),
    ("word_min_freq_3_reserved",
     "a b c a b a d e d a b c c e f a".split(), 3, ["<pad>", "<bos>"]),
    ("word_min_freq_2_reserved_in_tokens",
     "<pad> x y <unk> x z <bos> y x <pad> <unk> w".split(), 2, ["<pad>", "<bos>"]),
    ("char_reserved_min_freq_1", list("hello world"), 1, ["<pad>", "<bos>"]),
    ("empty_tokens_reserved", [], 1, ["<pad>", "<bos>"]),
]

LETTERS_TEXTS = [
    ("crlf_punct_digits",
     "  The Time Machine, by H. G. Wells [1898]  \r\n"
     "\r\n"
     "I\r\n"
     "\r\n"
     "The Time Traveller (for so it will be convenient to speak of him)\r\n"
     "was expounding a recondite matter to us. His grey eyes shone and\r\n"
     "   twinkled, and his usually pale face was flushed and animated.   \r\n"
     "42 -- 3.14159 !!!\r\n"
     "\r\n"
     "\tIt's  TWENTY-ONE o'clock...\r\n"),
    ("lf_cr_mixed_unicode",
     "Caf\u00e9 na\u00efve \u00fcber STRASSE stra\u00dfe\n"
     "\n"
     "   \n"
     "line one\rline two after a lone CR\n"
     "numbers 123 and under_scores and-dashes\n"
     "  trailing spaces and tabs\t\t \n"
     "last line without newline: Ends HERE."),
]

# (name, corpus, batch_size, num_steps, seed or ("offset", wanted))
SEQ_CASES = [
    ("range35_b2_t5_seed0", list(range(35)), 2, 5, 0),
    ("range35_b2_t5_offset0", list(range(35)), 2, 5, ("offset", 0)),
    ("range35_b2_t5_offset5_max", list(range(35)), 2, 5, ("offset", 5)),
    ("range103_b3_t7", list(range(103)), 3, 7, 1),
    ("range103_b3_t7_offset7_max", list(range(103)), 3, 7, ("offset", 7)),
    ("range103_b1_t10", list(range(103)), 1, 10, 2),
    ("range103_b5_t3", list(range(103)), 5, 3, 3),
    ("range103_b4_t6", list(range(103)), 4, 6, 4),
    ("range35_b4_t10_no_batches", list(range(35)), 4, 10, 5),
    ("ids_b2_t4", None, 2, 4, 6),
]
RAND_CASES = [
    ("range35_b2_t5_seed0", list(range(35)), 2, 5, 0),
    ("range35_b2_t5_offset0", list(range(35)), 2, 5, ("offset", 0)),
    ("range35_b2_t5_offset4_max", list(range(35)), 2, 5, ("offset", 4)),
    ("range103_b3_t7", list(range(103)), 3, 7, 1),
    ("range103_b3_t7_offset6_max", list(range(103)), 3, 7, ("offset", 6)),
    ("range103_b1_t10", list(range(103)), 1, 10, 2),
    ("range103_b5_t3", list(range(103)), 5, 3, 3),
    ("range103_b5_t6_leftover_subseqs", list(range(103)), 5, 6, 4),
    ("range35_b3_t1", list(range(35)), 3, 1, 5),
    ("ids_b2_t4", None, 2, 4, 6),
]


def ids_corpus():
    """A non-identity corpus: char ids of a sentence under its own d2l vocab."""
    toks = list("it was the best of times, it was the worst of times")
    v = Vocab(toks)
    return v[toks]


def seed_for_offset(hi, wanted):
    for s in range(100000):
        random.seed(s)
        if random.randint(0, hi) == wanted:
            return s
    raise RuntimeError("no seed found")


def text_golden():
    vocab = []
    for name, tokens, min_freq, reserved in VOCAB_CASES:
        v = Vocab(list(tokens), min_freq=min_freq, reserved_tokens=list(reserved))
        assert v.idx_to_token == vocab_old_d2l(list(tokens), min_freq, list(reserved)), name
        assert len(set(v.idx_to_token)) == len(v.idx_to_token), name
        vocab.append(collections.OrderedDict([
            ("name", name), ("tokens", list(tokens)), ("min_freq", min_freq),
            ("reserved", list(reserved)), ("idx_to_token", list(v.idx_to_token))]))

    letters = []
    for name, text in LETTERS_TEXTS:
        lines = d2l_lines(text)
        # cross-check against really reading a text-mode file
        with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
            f.write(text.encode("utf-8"))
            tmpname = f.name
        try:
            with open(tmpname, "r", encoding="utf-8") as f:
                file_lines = [re.sub('[^A-Za-z]+', ' ', line).strip().lower() for line in f.readlines()]
        finally:
            os.unlink(tmpname)
        assert file_lines == lines, name
        letters.append(collections.OrderedDict([
            ("name", name), ("text", text), ("lines", lines), ("joined", letters_only_stream(text))]))

    sequential = []
    for name, corpus, B, T, seed in SEQ_CASES:
        corpus = ids_corpus() if corpus is None else corpus
        if isinstance(seed, tuple):
            seed = seed_for_offset(T, seed[1])
        random.seed(seed)
        offset = random.randint(0, T)
        batches = sequential_partition(corpus, B, T, offset)
        random.seed(seed)
        assert as_lists(seq_data_iter_sequential(corpus, B, T)) == batches, name
        sequential.append(collections.OrderedDict([
            ("name", name), ("corpus", corpus), ("batch_size", B), ("num_steps", T),
            ("seed", seed), ("offset", offset), ("num_batches", len(batches)),
            ("batches", [collections.OrderedDict([("X", X), ("Y", Y)]) for X, Y in batches])]))

    rand = []
    for name, corpus, B, T, seed in RAND_CASES:
        corpus = ids_corpus() if corpus is None else corpus
        if isinstance(seed, tuple):
            seed = seed_for_offset(T - 1, seed[1])
        random.seed(seed)
        offset = random.randint(0, T - 1)
        num_subseqs = (len(corpus) - offset - 1) // T
        initial = list(range(0, num_subseqs * T, T))
        random.shuffle(initial)
        batches = random_partition(corpus, B, T, offset, initial)
        random.seed(seed)
        assert as_lists(seq_data_iter_random(corpus, B, T)) == batches, name
        rand.append(collections.OrderedDict([
            ("name", name), ("corpus", corpus), ("batch_size", B), ("num_steps", T),
            ("seed", seed), ("offset", offset), ("initial_indices", initial),
            ("num_batches", len(batches)),
            ("batches", [collections.OrderedDict([("X", X), ("Y", Y)]) for X, Y in batches])]))

    # coverage checks promised in the docs
    assert any(c["offset"] == c["num_steps"] for c in sequential)
    assert any(c["offset"] == c["num_steps"] - 1 for c in rand)
    assert any(c["batch_size"] == 1 for c in sequential) and any(c["batch_size"] == 1 for c in rand)
    assert any(((len(c["corpus"]) - c["offset"] - 1) // c["batch_size"]) % c["num_steps"] for c in sequential)
    assert any(c["num_batches"] == 0 for c in sequential)
    assert any(len(c["initial_indices"]) % c["batch_size"] for c in rand)
    return collections.OrderedDict([
        ("generator", "tools/golden/make_lm_golden.py"),
        ("vocab", vocab), ("letters_only", letters), ("sequential", sequential), ("random", rand)])


# ---------------------------------------------------------------- b) lm_train_golden.json.gz

TRAIN_CHARS = 3000
TRAIN_CASES = [
    # name, cell, hidden, layers, optimizer, lr, seed
    ("gru_h16_l1_sgd", "gru", 16, 1, "sgd", 1.0, 101),
    ("lstm_h16_l1_sgd", "lstm", 16, 1, "sgd", 1.0, 102),
    ("gru_h8_l2_sgd", "gru", 8, 2, "sgd", 1.0, 103),
    ("gru_h16_l1_adam", "gru", 16, 1, "adam", 0.01, 104),
]
TRAIN_BATCH, TRAIN_STEPS, CLIP = 4, 5, 1.0


def detach_state(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def make_optimizer(kind, params, lr):
    if kind == "sgd":
        hyper = collections.OrderedDict([("lr", lr), ("momentum", 0.0), ("dampening", 0.0),
                                         ("weight_decay", 0.0), ("nesterov", False)])
        return torch.optim.SGD(params, lr=lr), hyper
    hyper = collections.OrderedDict([("lr", lr), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8),
                                     ("weight_decay", 0.0), ("amsgrad", False)])
    return torch.optim.Adam(params, lr=lr), hyper


def train_epoch(model, batches, optimizer, clip):
    """d2l train_epoch_ch8 (sequential, state carried) with clip_grad_norm_. -> batch losses."""
    loss = nn.CrossEntropyLoss()
    dtype = model.linear.weight.dtype
    state, losses = None, []
    for X, Y in batches:
        X = torch.tensor(X, dtype=torch.int64)
        Y = torch.tensor(Y, dtype=torch.int64)
        if state is None:
            state = model.begin_state(X.shape[0], dtype)
        else:
            state = detach_state(state)
        y = Y.T.reshape(-1)
        y_hat, state = model(X, state)
        l = loss(y_hat, y.long()).mean()
        optimizer.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        losses.append(float(l))
    return losses


def fill_uniform(model, rng, bound):
    """Every state_dict tensor, in order: float32 uniform in [-bound, bound), exact in float64."""
    b = np.float32(bound)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            a = (rng.random(size=tuple(p.shape), dtype=np.float32) * (np.float32(2) * b) - b).astype(np.float32)
            p.copy_(torch.from_numpy(a.astype(np.float64)))


def train_corpus(book):
    stream = letters_only_stream(book)[:TRAIN_CHARS]
    assert len(stream) == TRAIN_CHARS
    chars = list(stream)
    idx_to_token = d2l_vocab_order(chars)
    index = {t: i for i, t in enumerate(idx_to_token)}
    return [index[c] for c in chars], idx_to_token


def lm_train_golden(book):
    corpus, idx_to_token = train_corpus(book)
    V = len(idx_to_token)
    batches = sequential_partition(corpus, TRAIN_BATCH, TRAIN_STEPS, 0)
    cases = []
    for name, cell, hidden, layers, opt, lr, seed in TRAIN_CASES:
        model = st.RNNModel(cell, V, hidden, layers).to(torch.float64)
        fill_uniform(model, np.random.default_rng(seed), 0.25)
        initial = collections.OrderedDict((n, tensor(p)) for n, p in model.state_dict().items())
        optimizer, hyper = make_optimizer(opt, model.parameters(), lr)
        losses = train_epoch(model, batches, optimizer, CLIP)
        mean = 0.0
        for v in losses:
            mean += v
        mean /= len(losses)
        cases.append(collections.OrderedDict([
            ("name", name), ("cell", cell), ("hidden_size", hidden), ("num_layers", layers),
            ("vocab_size", V), ("embedding_dim", 0), ("batch_size", TRAIN_BATCH),
            ("num_steps", TRAIN_STEPS), ("optimizer", opt), ("lr", lr), ("hyper", hyper),
            ("clip", CLIP), ("offset", 0), ("seed", seed), ("num_batches", len(batches)),
            ("corpus", corpus), ("initial", initial), ("batch_losses", losses),
            ("final", collections.OrderedDict((n, tensor(p)) for n, p in model.state_dict().items())),
            ("perplexity", math.exp(mean))]))
        print("  %-18s %d batches, first loss %.6f, last loss %.6f, perplexity %.4f"
              % (name, len(losses), losses[0], losses[-1], math.exp(mean)))
    return collections.OrderedDict([
        ("generator", "tools/golden/make_lm_golden.py"), ("torch", torch.__version__),
        ("dtype", "float64 computation; tensors float32-rounded; losses float64"),
        ("corpus_source", "tom_sawyer.txt (sha256 %s): letters_only lines joined by single spaces, "
                          "first %d chars, char tokens" % (CORPUS_SHA256, TRAIN_CHARS)),
        ("idx_to_token", idx_to_token), ("cases", cases)])


# ---------------------------------------------------------------- c) torch_model/

MODEL_CHARS = 20000
MODEL_HIDDEN, MODEL_BATCH, MODEL_STEPS, MODEL_UPDATES, MODEL_SEED = 32, 8, 20, 100, 2024
EXCERPT_FROM, EXCERPT_LEN = 200000, 400
ODD_CHAR = "\u00a7"


def torch_model(book):
    chars = list(book[:MODEL_CHARS])
    tokens = d2l_vocab_order(chars)
    index = {t: i for i, t in enumerate(tokens)}
    corpus = [index[c] for c in chars]
    model = st.RNNModel("gru", len(tokens), MODEL_HIDDEN, 1).to(torch.float64)
    fill_uniform(model, np.random.default_rng(MODEL_SEED), 1.0 / math.sqrt(MODEL_HIDDEN))
    batches = sequential_partition(corpus, MODEL_BATCH, MODEL_STEPS, 0)[:MODEL_UPDATES]
    assert len(batches) == MODEL_UPDATES
    optimizer, _ = make_optimizer("sgd", model.parameters(), 1.0)
    losses = train_epoch(model, batches, optimizer, 1.0)
    print("  torch_model: vocab %d, %d SGD steps, loss %.4f -> %.4f (mean of last 10 %.4f)"
          % (len(tokens), len(losses), losses[0], losses[-1], sum(losses[-10:]) / 10))
    return model.to(torch.float32), tokens


def excerpt(book, tokens):
    start = book.index("\n\n", EXCERPT_FROM) + 2
    text = book[start:start + EXCERPT_LEN]
    assert len(text) == EXCERPT_LEN
    assert ODD_CHAR not in tokens and ODD_CHAR not in text
    half = EXCERPT_LEN // 2
    return text[:half] + ODD_CHAR + text[half:]


def loglik_doc(model_name, model, tokens, text):
    ids = st.char_ids(text, tokens)
    ll, per = st.log_likelihood(model, ids)
    n = len(ids) - 1
    return collections.OrderedDict([
        ("model", model_name), ("text", text), ("ids", ids), ("tokens", n),
        ("log_likelihood", ll), ("perplexity", math.exp(-ll / n)), ("token_log_probs", per)]), ll


# ---------------------------------------------------------------- d) word_model/

WORD_TOKENIZER = collections.OrderedDict([("level", "word"), ("lowercase", True), ("letters_only", True)])
WORD_LINES, WORD_SEED, WORD_UPDATES = 3000, 77, 150
WORD_EMB, WORD_HIDDEN, WORD_LAYERS = 16, 24, 2
WORD_BATCH, WORD_STEPS = 16, 10
WORD_SCORE_FROM, WORD_SCORE_LINES, WORD_LONG_LINES = 6000, 300, 60
WORD_OOV_LINE = "tom said xyzzyq to huck"
WORD_GEN_PREFIX, WORD_GEN_LENGTH = "tom said to", 12


def word_model(book):
    lines = book.splitlines()[:WORD_LINES]
    stream = []
    for line in lines:   # letters-only word stream: the cleaned lines' words, nothing between lines
        stream.extend(st.text_tokens(line, WORD_TOKENIZER))
    tokens = d2l_vocab_order(stream)
    index = {t: i for i, t in enumerate(tokens)}
    corpus = [index[t] for t in stream]
    model = st.RNNModel("lstm", len(tokens), WORD_HIDDEN, WORD_LAYERS, WORD_EMB).to(torch.float64)
    fill_uniform(model, np.random.default_rng(WORD_SEED), 1.0 / math.sqrt(WORD_HIDDEN))
    batches = sequential_partition(corpus, WORD_BATCH, WORD_STEPS, 0)[:WORD_UPDATES]
    assert len(batches) == WORD_UPDATES
    optimizer, _ = make_optimizer("sgd", model.parameters(), 1.0)
    losses = train_epoch(model, batches, optimizer, 1.0)
    print("  word_model: vocab %d, %d SGD steps, loss %.4f -> %.4f (mean of last 10 %.4f)"
          % (len(tokens), len(losses), losses[0], losses[-1], sum(losses[-10:]) / 10))
    return model.to(torch.float32), tokens


def greedy(model, ids, n):
    """d2l predict_ch8, argmax, float64: -> (prefix + n ids, smallest top-1/top-2 logit gap)."""
    m = copy.deepcopy(model).to(torch.float64).eval()
    out, margin = list(ids), float("inf")
    with torch.no_grad():
        state = m.begin_state(1, torch.float64)
        if len(ids) > 1:
            _, state = m(torch.tensor([ids[:-1]], dtype=torch.int64), state)
        for _ in range(n):
            logits, state = m(torch.tensor([[out[-1]]], dtype=torch.int64), state)
            top = torch.topk(logits[0], 2)
            margin = min(margin, float(top.values[0] - top.values[1]))
            out.append(int(top.indices[0]))
    return out, margin


def word_scores(book, model, tokens):
    lines = book.splitlines()
    records = lines[WORD_SCORE_FROM:WORD_SCORE_FROM + WORD_SCORE_LINES]
    records.append(WORD_OOV_LINE)
    records.append(" ".join(lines[WORD_SCORE_FROM + WORD_SCORE_LINES:
                                  WORD_SCORE_FROM + WORD_SCORE_LINES + WORD_LONG_LINES]))
    assert all(c < "\u0080" for r in records for c in r), "ASCII records: tokenization is unambiguous"
    ids, counts, lls = [], [], []
    for r in records:
        i = st.token_ids(r, tokens, WORD_TOKENIZER)
        ids.append(i)
        if len(i) < 2:
            counts.append(0)
            lls.append(0.0)
        else:
            counts.append(len(i) - 1)
            lls.append(st.log_likelihood(model, i)[0])
    assert counts[-1] > 256, "the long record spans more than one scoring chunk"
    assert 0 in st.token_ids(WORD_OOV_LINE, tokens, WORD_TOKENIZER)
    prefix = st.token_ids(WORD_GEN_PREFIX, tokens, WORD_TOKENIZER)
    assert 0 not in prefix
    gen, margin = greedy(model, prefix, WORD_GEN_LENGTH)
    assert margin > 1e-3, margin
    text = []
    for t in (tokens[i] for i in gen):   # SeqSpark's detokenize: words joined by spaces, "\n" as is
        if text and t != "\n" and text[-1] != "\n":
            text.append(" ")
        text.append(t)
    return collections.OrderedDict([
        ("model", "word_model"), ("tokenizer", WORD_TOKENIZER), ("records", records), ("ids", ids),
        ("tokens", counts), ("log_likelihood", lls),
        ("generate", collections.OrderedDict([("prefix", WORD_GEN_PREFIX), ("length", WORD_GEN_LENGTH),
                                              ("ids", gen), ("text", "".join(text)),
                                              ("min_margin", margin)]))])


def save_replacing(model, tokens, tokenizer, name):
    target = os.path.join(GOLDEN, name)
    staging = os.path.join(GOLDEN, ".%s.new-%d" % (name, os.getpid()))
    try:
        st.save_model_dir(model, tokens, tokenizer, staging)
        replace_dir(staging, target)
    finally:
        if os.path.lexists(staging):
            shutil.rmtree(staging)
    return target


def replace_dir(staging, target):
    old = None
    if os.path.lexists(target):
        old = "%s.old-%d" % (target, os.getpid())
        os.rename(target, old)
    os.rename(staging, target)
    if old:
        shutil.rmtree(old)


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="tom_sawyer.txt (default: %(default)s)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(0)
    with open(args.corpus, "rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != CORPUS_SHA256:
        sys.exit("%s: unexpected sha256 (need %s)" % (args.corpus, CORPUS_SHA256))
    book = raw.decode("utf-8")

    os.makedirs(GOLDEN, exist_ok=True)
    written = []

    doc = text_golden()
    written.append(write_atomic(os.path.join(GOLDEN, "text_golden.json"),
                                to_json_text(doc).encode("ascii")))
    print("text_golden.json: %d vocab, %d letters_only, %d sequential, %d random cases"
          % (len(doc["vocab"]), len(doc["letters_only"]), len(doc["sequential"]), len(doc["random"])))

    print("lm_train_golden.json.gz:")
    doc = lm_train_golden(book)
    written.append(write_atomic(os.path.join(GOLDEN, "lm_train_golden.json.gz"),
                                gzip_bytes(to_json_text(doc))))

    model, tokens = torch_model(book)
    text = excerpt(book, tokens)
    target = save_replacing(model, tokens, {"level": "char", "lowercase": False, "letters_only": False},
                            "torch_model")
    written.extend(os.path.join(target, n) for n in (st.CONFIG_FILE, st.VOCAB_FILE, st.WEIGHTS_FILE))

    ll_doc, ll = loglik_doc("torch_model", model, tokens, text)
    # the saved directory must reproduce exactly the same numbers
    model2, tokens2, _ = st.load_model_dir(target)
    assert tokens2 == tokens
    ll_doc2, ll2 = loglik_doc("torch_model", model2, tokens2, text)
    assert ll2 == ll and ll_doc2 == ll_doc, (ll, ll2)
    written.append(write_atomic(os.path.join(GOLDEN, "torch_model_loglik.json"),
                                to_json_text(ll_doc).encode("ascii")))
    print("torch_model_loglik.json: %d tokens (%d <unk>), log-likelihood %.6f, perplexity %.4f"
          % (ll_doc["tokens"], ll_doc["ids"][1:].count(0), ll, ll_doc["perplexity"]))

    java_dir = os.path.join(GOLDEN, "java_model")
    if os.path.isdir(java_dir):
        jmodel, jtokens, jconfig = st.load_model_dir(java_dir)
        if st.normalize_tokenizer(jconfig.get("tokenizer", "char"))["level"] != "char":
            sys.exit("java_model: char-level tokenizer expected")
        jdoc, jll = loglik_doc("java_model", jmodel, jtokens, text)
        written.append(write_atomic(os.path.join(GOLDEN, "java_model_loglik.json"),
                                    to_json_text(jdoc).encode("ascii")))
        print("java_model_loglik.json: %d tokens, log-likelihood %.6f, perplexity %.4f"
              % (jdoc["tokens"], jll, jdoc["perplexity"]))
    else:
        print("java_model/ not found: skipping java_model_loglik.json")

    wmodel, wtokens = word_model(book)
    wtarget = save_replacing(wmodel, wtokens, WORD_TOKENIZER, "word_model")
    written.extend(os.path.join(wtarget, n) for n in (st.CONFIG_FILE, st.VOCAB_FILE, st.WEIGHTS_FILE))
    wdoc = word_scores(book, wmodel, wtokens)
    wmodel2, wtokens2, _ = st.load_model_dir(wtarget)
    assert wtokens2 == wtokens and word_scores(book, wmodel2, wtokens2) == wdoc
    written.append(write_atomic(os.path.join(GOLDEN, "word_model_scores.json"),
                                to_json_text(wdoc).encode("ascii")))
    print("word_model_scores.json: %d records, %d tokens, generated %r (min margin %.4f)"
          % (len(wdoc["records"]), sum(wdoc["tokens"]), wdoc["generate"]["text"], wdoc["generate"]["min_margin"]))

    total = 0
    for path in written:
        size = os.path.getsize(path)
        total += size
        print("  %8d  %s" % (size, os.path.relpath(path, ROOT)))
    print("  %8d  total" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
