#!/usr/bin/env bash
# Throughput of the authorship classifier, SeqSpark against PyTorch CPU, one thread each, side by side in one run:
# the same module (word embedding 64 -> LSTM 128 -> GRU 128 -> linear head on the last valid state), the same
# records (target/authorship/train.tsv, built by `seqspark passages` if missing), the same length-bucketed batches
# of 32 records, packed (no padding enters a state); training = forward, cross-entropy, backward, clipping 1.0,
# Adam; prediction = forward and softmax, 128 records at a time; and the fraction of this machine's single-thread
# sgemm rate (2048², measured in the same run) each SeqSpark figure reaches. Prints a Markdown table; raw JSON
# lines go to target/bench/.
#
#   tools/bench_classify.sh [SECONDS]      (default 20 s per measured run, after 3 s of warm-up)
#
# Measure on a quiet machine: every figure is per wall second of one thread, and other processes on the cores
# change them (the JSON lines also give tokens per CPU second). Needs Debian's python3-torch.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
seconds=${1:-20}
out=$root/target/bench
mkdir -p "$out"
log=$out/classify-$(date +%Y%m%d-%H%M%S).jsonl
export OPENBLAS_NUM_THREADS=1
data=$root/target/authorship/train.tsv
if [ ! -f "$data" ]; then
  "$root/submit-scripts/seqspark" passages --book twain="$root/data/tom_sawyer.txt" \
    --book dickens="$shared/corpora/dickens_old_curiosity_shop.txt" --output "$root/target/authorship" >&2
fi
common=(--blocks lstm:128,gru:128 --pooling last --embedding 64 --min-freq 2 --max-vocab 20000)

# This machine's single-thread sgemm rate, for the fraction of it each SeqSpark figure reaches.
gemm=$("$root/submit-scripts/seqspark" bench --gemm 2048x2048x2048 --seconds 5 --warmup 2 2>/dev/null | tail -1)
echo "$gemm" >>"$log"
printf '| run | SeqSpark tokens/s | PyTorch %s tokens/s | ratio | SeqSpark at sgemm rate |\n|---|---:|---:|---:|---:|\n' \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
for mode in train predict; do
  batch=32; [ "$mode" = predict ] && batch=128
  ours=$("$root/submit-scripts/seqspark" bench --task classify --mode "$mode" --data "$data" "${common[@]}" \
           --batch "$batch" --seconds "$seconds" 2>/dev/null | tail -1)
  theirs=$(/usr/bin/python3 "$root/tools/bench_classify.py" "$([ "$mode" = predict ] && echo forward || echo train)" \
             --data "$data" "${common[@]}" --batch "$batch" --threads 1 --seconds "$seconds" 2>/dev/null | tail -1)
  echo "$ours" >>"$log"
  echo "$theirs" >>"$log"
  python3 - "$ours" "$theirs" "$mode" "$batch" "$gemm" "${common[1]}" "${common[5]}" <<'PY'
import json, sys
ours, theirs, gemm = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[5])
a, b = ours["tokens_per_second"], theirs["tokens_per_second"]
# FLOPs per token, as ../shared/anchors/README.md counts them: a layer's multiplies are 2·G·H·(I + H) forward
# (G = 1 / 3 / 4 gates for RNN / GRU / LSTM, I its input width: the embedding, then the previous block's output);
# training triples it (the input and weight gradients). The head runs once per record, not per token.
gates = {"rnn_tanh": 1, "rnn_relu": 1, "rnn": 1, "gru": 3, "lstm": 4}
width, forward = int(sys.argv[7]), 0
for block in sys.argv[6].split(","):
    cell, hidden = block.split(":")[:2]
    forward += 2 * gates[cell] * int(hidden) * (width + int(hidden))
    width = int(hidden)
flops = forward * (3 if sys.argv[3] == "train" else 1)
print("| %s (batch %s) | %s | %s | %.2fx | %.0f%% |" % (sys.argv[3], sys.argv[4], format(round(a), ","),
                                                     format(round(b), ","), a / b, 100 * a * flops / (gemm["gflops"] * 1e9)))
PY
done
echo
echo "sgemm (2048², 1 thread): $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['gflops'])" "$gemm") GFLOP/s." \
  "Targets (issue 11): training >= 1.5x, prediction >= 1.5x PyTorch forward. Raw results: $log"
