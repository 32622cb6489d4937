#!/usr/bin/env bash
# What a training round costs beyond training, on a real Spark standalone cluster of W one-core executors
# (submit-scripts/start-cluster on this machine, loopback), for the round-cost model t(W, P) of docs/scale.md.
# For each W and hidden size it trains the bundled corpus for three epochs with tiny batches (4 x 8 tokens) and
# blocks of ceil(104 / W) batches, so that an epoch has about 100 rounds whose training is a few milliseconds:
# what is left of a round's wall time is its cost. The last epoch's figures are kept (the first ones warm the
# executors' JIT): the wall time beyond training, and the CPU time the round's own work takes where it runs, the
# driver process's and a task's (deserialization and result), from the run's breakdown ("train: rounds: ...").
# Writes target/round-cost/costs.jsonl, one line per (W, hidden).
#
#   tools/round_cost.sh [W ...]          (default 2 4 8 16; hidden sizes: ROUND_COST_HIDDEN, default "128 256";
#                                         how rounds travel: ROUND_COST_ROUNDS, default stream, or jobs)
#
# All W executors, the driver, the master and the workers share this machine's two cores, so a round's mechanics
# run one after another where a cluster runs them side by side: the wall figures are an upper bound of a cluster's,
# inflated more the larger W; the CPU figures are what each machine of a cluster would spend.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/target/round-cost
mkdir -p "$out"
: >"$out/costs.jsonl"
export SEQSPARK_CLUSTER_DIR=$out/cluster SEQSPARK_MASTER_PORT=${SEQSPARK_MASTER_PORT:-7177}
export SEQSPARK_UI_PORT=${SEQSPARK_UI_PORT:-8180} SEQSPARK_WORKER_MEMORY=700m
trap '"$root/submit-scripts/stop-cluster" >/dev/null 2>&1 || true' EXIT

mechanism=${ROUND_COST_ROUNDS:-stream}
for w in ${@:-2 4 8 16}; do
  url=$(SEQSPARK_WORKERS=$w "$root/submit-scripts/start-cluster")
  for h in ${ROUND_COST_HIDDEN:-128 256}; do
    run=$out/w$w-h$h
    SEQSPARK_DRIVER_MEMORY=1g "$root/submit-scripts/seqspark-submit" --master "$url" --executor-memory 512m -- \
      train --config "$root/conf/char-gru.properties" --output "file:$run" --overwrite --set data.offset=0 \
      --set model.hidden_size="$h" --set train.epochs=3 --set train.batch_size=4 --set train.num_steps=8 \
      --set dist.workers="$w" --set dist.sync_every=$(( (104 + w - 1) / w )) --set dist.rounds="$mechanism" \
      --set generate.length=0 >"$run.out" 2>"$run.err" || { tail -5 "$run.err" >&2; exit 1; }
    python3 - "$run" "$w" "$h" "$out/costs.jsonl" "$mechanism" <<'PY'
import json, re, sys
run, w, h, sink, mechanism = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
m = json.loads(open(run + "/metrics.jsonl").read().splitlines()[-1])
cfg = json.load(open(run + "/config.json"))
v, hid = cfg["vocab_size"], cfg["hidden_size"]
params = 3 * hid * (v + hid) + 6 * hid + hid * v + v          # GRU, one layer, one-hot input, linear head
line = next(l for l in open(run + ".err") if l.startswith("train: rounds: ")).strip()
f = dict(zip(["wall", "training", "broadcast", "beyond", "launch", "deserialize", "deserialize_cpu", "result",
              "driver_cpu", "driver_threads_cpu"], map(float, re.findall(r"([0-9]+\.[0-9]+)", line))))
rec = {"workers": w, "hidden": h, "parameters": params, "rounds": m["rounds"], "mechanism": mechanism,
       "overhead_ms_per_round": round(1000 * m["round_overhead_seconds"] / m["rounds"], 1),
       "driver_cpu_ms": f["driver_cpu"], "driver_threads_cpu_ms": f["driver_threads_cpu"], "task_cpu_ms": round(f["deserialize_cpu"] + f["result"], 1),
       "breakdown": line[len("train: rounds: "):]}
open(sink, "a").write(json.dumps(rec) + "\n")
print(f"round_cost: W={w} hidden={h} P={params}: {rec['overhead_ms_per_round']} ms per round beyond training; "
      f"driver CPU {rec['driver_cpu_ms']} ms, a task's own {rec['task_cpu_ms']} ms; {rec['breakdown']}")
PY
  done
  "$root/submit-scripts/stop-cluster" >/dev/null 2>&1
done
