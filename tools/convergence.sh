#!/usr/bin/env bash
# Time to quality of distributed training: d2l's char GRU-256 (conf/char-gru.properties, offset 0, 20 epochs)
# on the bundled corpus for W = 1, 2, 4, 8 workers with plain averaging once per epoch (lr 1 and lr W, the
# linear scaling rule) and with the defaults (BMUF), side by side with PyTorch DDP — what Spark's
# TorchDistributor runs — at W = 1 and 2 (lr 1 and lr 2; ../shared/anchors/ddp_charlm.py). Then the defaults
# at W = 1, 2, 4 on a corpus they were not tuned on (Dickens, The Old Curiosity Shop, ../shared/corpora).
# Writes target/convergence/<run>/metrics.jsonl (DDP: <run>.jsonl), then docs/convergence.md (tables: validation
# perplexity per epoch, seconds per epoch, wall time to 1.02 x W=1's final perplexity) and
# docs/convergence-epochs.svg, docs/convergence-seconds.svg (tools/plot_convergence.py).
#
#   tools/convergence.sh [EPOCHS]     (default 20; about 40 minutes on 2 cores; run it on a quiet machine)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
epochs=${1:-20}
out=$root/target/convergence
mkdir -p "$out"
dickens=$shared/corpora/dickens_old_curiosity_shop.txt

run() {   # name, then --set options
  local name=$1; shift
  echo "convergence: $name" >&2
  "$root/submit-scripts/seqspark" train --config "$root/conf/char-gru.properties" --output "$out/$name" --overwrite \
    --set train.epochs="$epochs" --set data.offset=0 "$@" >/dev/null
}
ddp() {   # name, then ddp_charlm.py options
  local name=$1; shift
  echo "convergence: $name" >&2
  rm -f "$out/$name.jsonl"
  /usr/bin/python3 "$shared/anchors/ddp_charlm.py" --epochs "$epochs" --json-out "$out/$name.jsonl" "$@" >/dev/null
}

run w1 --set dist.workers=1
for w in 2 4 8; do
  run "w$w-avg-lr1" --set dist.workers=$w --set dist.outer=average --set dist.sync_every=0
  run "w$w-avg-lr$w" --set dist.workers=$w --set dist.outer=average --set dist.sync_every=0 --set train.lr=$w
  run "w$w" --set dist.workers=$w
done
ddp ddp-w1 --workers 1
ddp ddp-w2-lr1 --workers 2
ddp ddp-w2-lr2 --workers 2 --lr-scale
for w in 1 2 4; do
  run "dickens-w$w" --set dist.workers=$w --set data.path="$dickens"
done
python3 "$root/tools/plot_convergence.py" "$out" "$root/docs"
