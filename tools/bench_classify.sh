#!/usr/bin/env bash
# Throughput of the authorship classifier, SeqSpark against PyTorch CPU, one thread each, side by side in one run:
# the same module (word embedding 64 -> LSTM 128 -> GRU 128 -> linear head on the last valid state), the same
# records (target/authorship/train.tsv, built by `seqspark passages` if missing), the same length-bucketed batches
# of 32 records, packed (no padding enters a state); training = forward, cross-entropy, backward, clipping 1.0,
# Adam; prediction = forward and softmax, 128 records at a time. Prints a Markdown table; raw JSON lines go to
# target/bench/.
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

printf '| run | SeqSpark tokens/s | PyTorch %s tokens/s | ratio |\n|---|---:|---:|---:|\n' \
  "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
for mode in train predict; do
  batch=32; [ "$mode" = predict ] && batch=128
  ours=$("$root/submit-scripts/seqspark" bench --task classify --mode "$mode" --data "$data" "${common[@]}" \
           --batch "$batch" --seconds "$seconds" 2>/dev/null | tail -1)
  theirs=$(/usr/bin/python3 "$root/tools/bench_classify.py" "$([ "$mode" = predict ] && echo forward || echo train)" \
             --data "$data" "${common[@]}" --batch "$batch" --threads 1 --seconds "$seconds" 2>/dev/null | tail -1)
  echo "$ours" >>"$log"
  echo "$theirs" >>"$log"
  python3 - "$ours" "$theirs" "$mode" "$batch" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
a, b = ours["tokens_per_second"], theirs["tokens_per_second"]
print("| %s (batch %s) | %s | %s | %.2fx |" % (sys.argv[3], sys.argv[4], format(round(a), ","), format(round(b), ","), a / b))
PY
done
echo
echo "Targets (issue 11): training >= 1.5x, prediction >= 1.5x PyTorch forward. Raw results: $log"
