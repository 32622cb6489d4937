#!/usr/bin/env bash
# The scale study (docs/scale.md): does a cluster of W one-core executors reach one worker's model W times
# sooner? d2l's char GRU (conf/char-gru.properties with hidden 128: small enough for the whole study to run on two
# cores) on TEXT, a corpus large enough that each of 64 shards trains at least 100 batches an epoch (the study
# used the books of the large English corpus, 9.3 MB). Only dist.workers changes for the default runs.
#
#   tools/scale.sh TEXT              (about two hours on 2 cores; run it on a quiet machine)
#
# 1. SeqSpark in Spark local mode: W = 1 (4 epochs), W = 4, 8, 16, 64 with the defaults and the alternatives
#    (6 epochs; SCALE_ALTERNATIVES: name:W:K[:outer[:overlap]] ..., overlap true for dist.overlap). Every epoch
#    records the slowest shard's training time summed over its rounds (metrics.jsonl: slowest_task_seconds) and its
#    tokens: its training on W one-core executors is its batches per shard at W = 1's time per batch.
# 2. PyTorch DDP's maths at W (ANCHORS/ddp_charlm.py, PyTorch's own trainer): one process with the global
#    batch 32·W and the learning rate scaled by W (and by √W, where W makes it diverge), 6 epochs; and one epoch
#    at batch 32, PyTorch's time for a step's micro-batch on one core. Skipped, with a note, when python3-torch is
#    missing.
# 3. tools/round_cost.sh: what a round costs on a standalone cluster of 2, 4, 8, 16 executors, rounds through the
#    driver's channel (dist.rounds=stream, the default) and as a Spark job each (dist.rounds=jobs).
# 4. tools/scale_report.py: simulated wall time to 1.02 x W=1's final validation perplexity; docs/scale.md,
#    docs/scale-seconds.svg, and docs/scale-runs.json: the runs' figures and round costs the report used, from which
#    it is made again without the runs (tools/scale_report.py docs/scale-runs.json COSTS_JSONL|- docs).
#
# Runs go to target/scale/ (kept: rerunning skips what is done; delete a run to redo it). ANCHORS: the directory
# of the PyTorch reference scripts (default ../shared/anchors beside the repository).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
text=${1:?usage: tools/scale.sh TEXT (a large plain-text corpus)}
[ -f "$text" ] || { echo "scale.sh: no such file: $text" >&2; exit 2; }
text=$(cd "$(dirname "$text")" && pwd)/$(basename "$text")
anchors=${ANCHORS:-$root/../shared/anchors}
out=$root/target/scale
mkdir -p "$out"

run() {   # name, epochs, then --set options
  local name=$1 epochs=$2; shift 2
  [ -f "$out/$name/metrics.jsonl" ] && [ "$(wc -l <"$out/$name/metrics.jsonl")" -ge "$epochs" ] && return
  echo "scale: $name" >&2
  "$root/submit-scripts/seqspark" train --config "$root/conf/char-gru.properties" --output "$out/$name" --overwrite \
    --set data.path="$text" --set model.hidden_size=128 --set train.epochs="$epochs" --set generate.length=0 \
    "$@" >"$out/$name.out" 2>"$out/$name.err" || { tail -3 "$out/$name.err" >&2; exit 1; }
}
ddp() {   # name, epochs, then ddp_charlm.py options
  local name=$1 epochs=$2; shift 2
  [ -f "$out/$name.jsonl" ] && [ "$(wc -l <"$out/$name.jsonl")" -ge "$epochs" ] && return
  echo "scale: $name" >&2
  rm -f "$out/$name.jsonl"
  /usr/bin/python3 "$anchors/ddp_charlm.py" --workers 1 --corpus "$text" --hidden 128 --epochs "$epochs" \
    --json-out "$out/$name.jsonl" "$@" >"$out/$name.out" 2>&1 || { tail -3 "$out/$name.out" >&2; exit 1; }
}

run w1 4 --set dist.workers=1
for w in 4 8 16 64; do
  run "w$w" 6 --set dist.workers=$w
done
for alt in ${SCALE_ALTERNATIVES:-w8-k4:8:4 w16-k1:16:1 w16-k16:16:16 w16-k32:16:32 w16-nesterov-k32:16:32:nesterov \
    w16-overlapped:16:16:bmuf:true w64-k1:64:1 w64-k8:64:8 w64-k16:64:16}; do
  IFS=: read -r name w k outer overlap <<<"$alt"
  run "$name" 6 --set dist.workers="$w" --set dist.sync_every="$k" --set dist.outer="${outer:-bmuf}" \
    --set dist.overlap="${overlap:-false}"
done
if /usr/bin/python3 -c 'import torch' 2>/dev/null && [ -f "$anchors/ddp_charlm.py" ]; then
  ddp ddp-step 1 --batch 32
  for w in 4 16 64; do
    ddp "ddp-w$w" 6 --batch $((32 * w)) --lr "$w"
  done
  ddp ddp-w16-sqrt 6 --batch 512 --lr 4
  ddp ddp-w64-sqrt 6 --batch 2048 --lr 8
else
  echo "scale: no python3-torch or no $anchors/ddp_charlm.py: PyTorch DDP left out" >&2
fi
if [ ! -f "$out/round-costs.jsonl" ]; then
  ROUND_COST_ROUNDS=stream "$root/tools/round_cost.sh" 2 4 8 16
  cp "$root/target/round-cost/costs.jsonl" "$out/round-costs.partial"
  ROUND_COST_ROUNDS=jobs "$root/tools/round_cost.sh" 2 4 8 16
  cat "$root/target/round-cost/costs.jsonl" >>"$out/round-costs.partial"
  mv "$out/round-costs.partial" "$out/round-costs.jsonl"
fi
python3 "$root/tools/scale_report.py" "$out" "$out/round-costs.jsonl" "$root/docs"
