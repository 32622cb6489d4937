#!/usr/bin/env bash
# What a training round costs beyond training, on a real Spark standalone cluster of W one-core executors
# (submit-scripts/start-cluster on this machine, loopback), for the round-cost model of docs/distributed.md.
# For each W it trains the bundled corpus for one epoch with a block of one batch (dist.sync_every=1, so that
# rounds dominate) and prints the run's own breakdown ("train: rounds: ...": per round the broadcast, the job
# beyond its slowest task, and within it the largest launch wait, deserialization and result time) and the
# overhead per round from metrics.jsonl. Writes target/round-cost/costs.jsonl, one line per (W, hidden).
#
#   tools/round_cost.sh [W ...]          (default 2 4 8 16; hidden sizes: ROUND_COST_HIDDEN, default "128 256")
#
# The W executors share this machine's cores, so their training is slow; the overhead is what a round adds to
# its slowest task, which is what a cluster of W real cores would also pay (plus the network: see the model).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/target/round-cost
mkdir -p "$out"
: >"$out/costs.jsonl"
export SEQSPARK_CLUSTER_DIR=$out/cluster SEQSPARK_MASTER_PORT=${SEQSPARK_MASTER_PORT:-7177}
export SEQSPARK_UI_PORT=${SEQSPARK_UI_PORT:-8180} SEQSPARK_WORKER_MEMORY=700m
trap '"$root/submit-scripts/stop-cluster" >/dev/null 2>&1 || true' EXIT

for w in ${@:-2 4 8 16}; do
  url=$(SEQSPARK_WORKERS=$w "$root/submit-scripts/start-cluster")
  for h in ${ROUND_COST_HIDDEN:-128 256}; do
    run=$out/w$w-h$h
    SEQSPARK_DRIVER_MEMORY=1g "$root/submit-scripts/seqspark-submit" --master "$url" --executor-memory 512m -- \
      train --config "$root/conf/char-gru.properties" --output "file:$run" --overwrite --set data.offset=0 \
      --set model.hidden_size="$h" --set train.epochs=1 --set dist.workers="$w" --set dist.sync_every=1 \
      --set generate.length=0 >"$run.out" 2>"$run.err" || { tail -5 "$run.err" >&2; exit 1; }
    python3 - "$run" "$w" "$h" "$out/costs.jsonl" <<'PY'
import json, re, sys
run, w, h, sink = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
m = json.loads(open(run + "/metrics.jsonl").read().splitlines()[-1])
cfg = json.load(open(run + "/config.json"))
v, hid = cfg["vocab_size"], cfg["hidden_size"]
params = 3 * hid * (v + hid) + 6 * hid + hid * v + v          # GRU, one layer, one-hot input, linear head
line = next(l for l in open(run + ".err") if l.startswith("train: rounds: "))
nums = [float(x) for x in re.findall(r"([0-9.]+) ms", line)]
rec = {"workers": w, "hidden": h, "parameters": params, "rounds": m["rounds"],
       "overhead_ms_per_round": round(1000 * m["round_overhead_seconds"] / m["rounds"], 1),
       "broadcast_ms": nums[2], "job_beyond_training_ms": nums[3], "breakdown": line.strip()[len("train: rounds: "):]}
open(sink, "a").write(json.dumps(rec) + "\n")
print(f"round_cost: W={w} hidden={h} P={params}: {rec['overhead_ms_per_round']} ms per round beyond training; {rec['breakdown']}")
PY
  done
  "$root/submit-scripts/stop-cluster" >/dev/null 2>&1
done
