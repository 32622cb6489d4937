#!/usr/bin/env bash
# Integration test (run by .ci/run): starts a real Spark standalone cluster on 127.0.0.1 (one master, two
# workers; submit-scripts/start-cluster), submits a small 2-epoch, 2-worker training job to it with
# submit-scripts/seqspark-submit --master spark://127.0.0.1:PORT, checks the model directory and metrics it
# wrote, stops the cluster and checks that nothing is left running. Exit 0 = pass.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SEQSPARK_CLUSTER_DIR=$root/target/it-cluster
export SEQSPARK_MASTER_PORT=${SEQSPARK_MASTER_PORT:-17077}
export SEQSPARK_UI_PORT=${SEQSPARK_UI_PORT:-18080}
cleanup() { "$root/submit-scripts/stop-cluster" 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "it: FAIL: $*" >&2; exit 1; }

out=$root/target/it-model
corpus=$root/target/it-corpus.txt
rm -rf "$out" "$SEQSPARK_CLUSTER_DIR"
head -n 800 "$root/data/tom_sawyer.txt" >"$corpus"

t0=$(date +%s)
url=$("$root/submit-scripts/start-cluster")
echo "it: cluster up at $url after $(( $(date +%s) - t0 )) s" >&2

SEQSPARK_DRIVER_MEMORY=1g "$root/submit-scripts/seqspark-submit" --master "$url" --deploy-mode client \
  --executor-memory 1g --total-executor-cores 2 -- \
  train --config "$root/conf/char-gru.properties" --output "$out" --set data.path="$corpus" \
  --set model.hidden_size=32 --set train.epochs=2 --set dist.workers=2 --set generate.length=20 \
  >"$root/target/it-train.out" 2>"$root/target/it-train.err" \
  || { tail -20 "$root/target/it-train.err" >&2; fail "the training job failed"; }
grep -q "on spark://127.0.0.1:$SEQSPARK_MASTER_PORT" "$root/target/it-train.err" || fail "the job did not run on the cluster"

for f in config.json vocab.json weights.safetensors metrics.jsonl checkpoint.json; do
  [ -s "$out/$f" ] || fail "$out/$f missing"
done
python3 - "$out" <<'PY' || fail "model or metrics are wrong"
import json, sys
d = sys.argv[1]
m = [json.loads(l) for l in open(d + "/metrics.jsonl")]
assert [x["epoch"] for x in m] == [1, 2], m
assert all(x["workers"] == 2 and x["tokens_per_second"] > 0 and x["valid_perplexity"] < 40 for x in m), m
c = json.load(open(d + "/config.json"))
assert c["format"] == "seqspark-model" and c["cell"] == "gru" and c["hidden_size"] == 32, c
assert len(json.load(open(d + "/vocab.json"))["tokens"]) == c["vocab_size"]
print("it: metrics", [(x["epoch"], round(x["valid_perplexity"], 3)) for x in m], file=sys.stderr)
PY

# Every executor loaded the OpenBLAS bundled in the application jar (start-cluster leaves it out of the
# cluster's own jars), whatever the machine has installed.
if [ "$(uname -m)" = x86_64 ]; then
  logs=$(ls "$SEQSPARK_CLUSTER_DIR"/work*/app-*/*/stderr 2>/dev/null || true)
  [ -n "$logs" ] || fail "no executor logs under $SEQSPARK_CLUSTER_DIR/work*/app-*/"
  for f in $logs; do
    grep -q "BLAS native (JNIBLAS, bundled OpenBLAS" "$f" || { grep "BLAS" "$f" >&2 || true; fail "executor $f did not load the bundled OpenBLAS"; }
  done
  echo "it: $(echo "$logs" | wc -l) executors: $(grep -h -o "BLAS native (JNIBLAS, bundled[^)]*)" $logs | sort -u)" >&2
fi

cleanup
trap - EXIT
sleep 1
if pgrep -f "$SEQSPARK_CLUSTER_DIR" >/dev/null; then
  pgrep -af "$SEQSPARK_CLUSTER_DIR" >&2
  fail "processes of the cluster are still running"
fi
echo "it: PASS (standalone cluster, 2 workers, $(( $(date +%s) - t0 )) s)" >&2
