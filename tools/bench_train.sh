#!/usr/bin/env bash
# Training-step throughput, SeqSpark against PyTorch CPU, one thread each, side by side in one run:
# d2l's char LM (one-hot input, vocab 28, batch 32, num_steps 35, hidden 256, clipping, SGD) for
# RNN-tanh, GRU, LSTM and a 2-layer LSTM, and the fraction of this machine's single-thread sgemm rate
# (measured in the same run on 2048² matrices) each SeqSpark figure reaches, from the FLOPs per token of
# ../shared/anchors/README.md (6·G·H² for the first layer, 12·G·H² for each further one, 6·H·V for the head;
# G = 1, 3, 4 for RNN, GRU, LSTM). Prints a Markdown table; raw JSON lines go to target/bench/.
#
#   tools/bench_train.sh [SECONDS]      (default 15 s per SeqSpark run; PyTorch trains one epoch of
#                                        ../shared/corpora/tom_sawyer.txt with ../shared/anchors/bench_charlm.py)
# Needs: Debian's python3-torch (apt-get install python3-torch). Run it on a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
seconds=${1:-15}
out=$root/target/bench
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
log=$out/train-$stamp.jsonl
export OPENBLAS_NUM_THREADS=1

gemm=$("$root/submit-scripts/seqspark" bench --gemm 2048x2048x2048 --seconds 5 --warmup 2 2>/dev/null | tail -1)
echo "$gemm" >>"$log"
printf '| model | SeqSpark tokens/s | PyTorch %s tokens/s | ratio | SeqSpark at sgemm rate |\n|---|---:|---:|---:|---:|\n' \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
for spec in "rnn_tanh rnn 1" "gru gru 1" "lstm lstm 1" "lstm lstm 2"; do
  read -r cell torch_cell layers <<<"$spec"
  ours=$("$root/submit-scripts/seqspark" bench --cell "$cell" --layers "$layers" --seconds "$seconds" 2>/dev/null | tail -1)
  theirs=$(/usr/bin/python3 "$shared/anchors/bench_charlm.py" --corpus "$shared/corpora/tom_sawyer.txt" \
             --cell "$torch_cell" --layers "$layers" --hidden 256 --batch 32 --steps 35 --threads 1 --epochs 1 \
             2>/dev/null | tail -1)
  echo "$ours" >>"$log"
  echo "$theirs" >>"$log"
  python3 - "$ours" "$theirs" "$cell" "$layers" "$gemm" <<'PY'
import json, sys
ours, theirs, gemm = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[5])
a, b = ours["tokens_per_second"], theirs["tok_s_all"]
layers, H, V = int(sys.argv[4]), ours["hidden"], ours["vocab"]
G = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}[sys.argv[3]]
flops = 6 * G * H * H + 12 * G * H * H * (layers - 1) + 6 * H * V
name = sys.argv[3] + ("" if layers == 1 else ", %d layers" % layers)
print("| %s | %s | %s | %.2fx | %.0f%% |" % (name, format(round(a), ","), format(round(b), ","), a / b,
                                          100 * a * flops / (gemm["gflops"] * 1e9)))
PY
done
echo
echo "sgemm (2048², 1 thread): $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['gflops'])" "$gemm") GFLOP/s;" \
     "BLAS: $(grep -o '"blas":"[^"]*"' "$log" | head -1); raw results: $log"
