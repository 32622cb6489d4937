#!/usr/bin/env bash
# Training-step throughput, SeqSpark against PyTorch CPU, one thread each, side by side in one run:
# d2l's char LM (one-hot input, vocab 28, batch 32, num_steps 35, hidden 256, clipping, SGD) for
# RNN-tanh, GRU, LSTM and a 2-layer LSTM. Prints a Markdown table; raw JSON lines go to target/bench/.
#
#   tools/bench_train.sh [SECONDS]      (default 15 s per SeqSpark run; PyTorch trains one epoch of
#                                        ../shared/corpora/tom_sawyer.txt with ../shared/anchors/bench_charlm.py)
# Needs: Debian's python3-torch (apt-get install python3-torch libopenblas0-pthread).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
seconds=${1:-15}
out=$root/target/bench
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
log=$out/train-$stamp.jsonl
export OPENBLAS_NUM_THREADS=1

printf '| model | SeqSpark tokens/s | PyTorch %s tokens/s | ratio |\n|---|---:|---:|---:|\n' \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
for spec in "rnn_tanh rnn 1" "gru gru 1" "lstm lstm 1" "lstm lstm 2"; do
  read -r cell torch_cell layers <<<"$spec"
  ours=$("$root/submit-scripts/seqspark" bench --cell "$cell" --layers "$layers" --seconds "$seconds" 2>/dev/null | tail -1)
  theirs=$(/usr/bin/python3 "$shared/anchors/bench_charlm.py" --corpus "$shared/corpora/tom_sawyer.txt" \
             --cell "$torch_cell" --layers "$layers" --hidden 256 --batch 32 --steps 35 --threads 1 --epochs 1 \
             2>/dev/null | tail -1)
  echo "$ours" >>"$log"
  echo "$theirs" >>"$log"
  python3 - "$ours" "$theirs" "$cell" "$layers" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
a, b = ours["tokens_per_second"], theirs["tok_s_all"]
name = sys.argv[3] + ("" if sys.argv[4] == "1" else ", %s layers" % sys.argv[4])
print("| %s | %s | %s | %.2fx |" % (name, format(round(a), ","), format(round(b), ","), a / b))
PY
done
echo
echo "BLAS: $(grep -o '"blas":"[^"]*"' "$log" | head -1); raw results: $log"
