#!/usr/bin/env bash
# Convergence of distributed training on the bundled corpus: validation perplexity per epoch of d2l's char
# GRU (conf/char-gru.properties, offset 0) for W = 1, 2, 4 workers averaged once per epoch, and W = 2
# averaged every 10 batches and every batch. Writes target/convergence/<run>/metrics.jsonl, then
# docs/convergence.svg and docs/convergence.md (tools/plot_convergence.py).
#
#   tools/convergence.sh [EPOCHS]     (default 10; about 10 minutes on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
epochs=${1:-10}
out=$root/target/convergence
mkdir -p "$out"
run() {
  local name=$1; shift
  echo "convergence: $name" >&2
  "$root/submit-scripts/seqspark" train --config "$root/conf/char-gru.properties" --output "$out/$name" --overwrite \
    --set train.epochs="$epochs" --set data.offset=0 "$@" >/dev/null
}
run w1 --set dist.workers=1
run w2 --set dist.workers=2
run w4 --set dist.workers=4
run w2-sync10 --set dist.workers=2 --set dist.sync_every=10
run w2-sync1 --set dist.workers=2 --set dist.sync_every=1
python3 "$root/tools/plot_convergence.py" "$out" "$root/docs"
