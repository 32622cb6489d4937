#!/usr/bin/env bash
# Integration test (run by .ci/run through `mvn verify`; `-DskipITs` skips it). On this machine it starts a real
# HDFS and YARN (dev.seqspark.it.MiniHadoop: Hadoop's MiniDFSCluster and MiniYARNCluster, NameNode, DataNode,
# ResourceManager and NodeManager on 127.0.0.1, in a JVM of their own) and a real Spark standalone cluster
# (submit-scripts/start-cluster: one master, two one-core workers), then, every job submitted with
# submit-scripts/seqspark-submit and every path on HDFS, on the standalone cluster:
#   0. (before anything starts) what seqspark-submit hands spark-submit: no pinned address, the log configuration;
#   1. train in cluster deploy mode (config, corpus and model on HDFS): the undisturbed reference run;
#   2. train in client mode, one executor SIGKILLed mid-epoch: it finishes by itself, same weights byte for byte;
#   3. train in client mode, the driver SIGKILLed mid-epoch, then the same command with --resume: same weights;
#   4. score and generate (one prefix, and a file of prefixes on Spark) from the HDFS model, outputs on HDFS;
#   5. executors that come and go: an executor decommissioned gracefully mid-epoch (spark.decommission.enabled,
#      SIGPWR), then dynamic allocation adding and removing executors all through a run (against an undisturbed
#      run with fixed executors); each leaves the weights byte for byte those of the undisturbed run;
# then on YARN (SPARK_HOME a stand-in Spark 4.1.0 distribution with YARN support, HADOOP_CONF_DIR the cluster's):
#   6. train in cluster deploy mode (the driver in the ApplicationMaster's container): the standalone run's bytes;
#   7. train in client mode, one executor's container SIGKILLed mid-epoch: it finishes by itself, the same bytes;
#   8. score and predict from models on HDFS in client mode: score as local mode, predict the same predictions;
#   and every application's final state as YARN reports it;
# then checks the models, metrics and outputs copied back from HDFS, that every executor loaded the OpenBLAS
# bundled in the application jar and multiplied the way its driver told it to, and that nothing is left running.
# Exit 0 = pass.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
it=$root/target/it
export SEQSPARK_CLUSTER_DIR=$it/cluster
# A one-machine cluster: everything on loopback (seqspark-submit itself uses whatever the environment says).
export SPARK_LOCAL_IP=127.0.0.1
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export SEQSPARK_MASTER_PORT=${SEQSPARK_MASTER_PORT:-$(free_port)}
export SEQSPARK_UI_PORT=${SEQSPARK_UI_PORT:-$(free_port)}   # Spark moves to the next port if one is taken
hadoop_pid= job= job2=
hconf=$it/hadoop-conf
cleanup() {
  for j in $job $job2; do
    if kill -0 "$j" 2>/dev/null; then kill "$j" 2>/dev/null || true; wait "$j" 2>/dev/null || true; fi
  done
  "$root/submit-scripts/stop-cluster" 2>/dev/null || true
  if [ -n "$hadoop_pid" ] && kill -0 "$hadoop_pid" 2>/dev/null; then
    touch "$hconf/stop"
    for _ in $(seq 1 50); do kill -0 "$hadoop_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$hadoop_pid" 2>/dev/null || true
    wait "$hadoop_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "it: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
fail() { echo "it: FAIL: $*" >&2; exit 1; }
t0=$(date +%s)
step() { echo "it: $(( $(date +%s) - t0 )) s: $*" >&2; }

rm -rf "$it"
mkdir -p "$it"
corpus=$it/corpus.txt
head -n 800 "$root/data/tom_sawyer.txt" >"$corpus"
head -n 4800 "$root/data/tom_sawyer.txt" >"$it/corpus-large.txt"
printf 'tom\n\nbecky thatcher\nhuck\n' >"$it/prefixes.txt"

# 0. What seqspark-submit hands spark-submit (a stand-in SPARK_HOME whose spark-submit prints its arguments):
# no address pinned; the log configuration shipped with --files where the cluster ships files (YARN), read
# from here by a client-mode driver, never a local path for a driver elsewhere.
mkdir -p "$it/fake-spark/bin"
cat >"$it/fake-spark/bin/spark-submit" <<'SH'
#!/usr/bin/env bash
echo "SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-unset}"
printf '[%s]\n' "$@"
SH
chmod +x "$it/fake-spark/bin/spark-submit"
args() { env -u SPARK_LOCAL_IP SPARK_HOME="$it/fake-spark" "$root/submit-scripts/seqspark-submit" "$@" -- score --model m; }
a=$(args --master yarn --deploy-mode cluster --files extra.txt)
grep -qx "SPARK_LOCAL_IP=unset" <<<"$a" || fail "seqspark-submit pins SPARK_LOCAL_IP"
grep -qx "\[$root/conf/log4j2.properties,extra.txt\]" <<<"$a" || fail "YARN cluster mode: log configuration not shipped with --files: $a"
grep -q -- "-Dlog4j2.configurationFile=log4j2.properties\]" <<<"$a" || fail "YARN cluster mode: driver not pointed at the shipped file"
a=$(args --master spark://h:7077 --deploy-mode cluster)
! grep -q "log4j2" <<<"$a" || fail "standalone cluster mode: a local log4j2 path handed to a remote driver: $a"
a=$(args --master spark://h:7077)
grep -q -- "-Dlog4j2.configurationFile=$root/conf/log4j2.properties\]" <<<"$a" || fail "client mode: the driver's log configuration"
step "0. seqspark-submit: addresses left to Spark's configuration, log configuration shipped or local as it must be"

# HDFS and YARN, in the background while the Spark cluster starts (YARN's directories go under $it/hadoop).
for f in minihadoop-classpath spark-yarn-classpath; do
  [ -s "$root/target/$f.txt" ] && [ -d "$root/target/test-classes/dev/seqspark/it" ] \
    || (cd "$root" && mvn -B -q -Dstyle.color=never test-compile dependency:build-classpath@$f) >&2
done
hadoop_cp=$root/target/test-classes:$(cat "$root/target/minihadoop-classpath.txt")
mkdir -p "$it/hadoop"
(cd "$it/hadoop" && exec java -Xmx1g @"$root/conf/jvm.options" -Dtest.build.data="$it/hadoop" -cp "$hadoop_cp" \
  dev.seqspark.it.MiniHadoop serve "$it/hadoop" "$hconf" "$corpus=/it/corpus.txt" "$it/corpus-large.txt=/it/corpus-large.txt" \
  "$it/prefixes.txt=/it/prefixes.txt" "$root/conf/char-gru.properties=/it/conf/char-gru.properties") >"$it/hadoop.log" 2>&1 &
hadoop_pid=$!
url=$("$root/submit-scripts/start-cluster")
step "Spark standalone cluster up at $url"
for _ in $(seq 1 400); do
  [ -s "$hconf/fs.uri" ] && break
  kill -0 "$hadoop_pid" 2>/dev/null || { tail -20 "$it/hadoop.log" >&2; fail "HDFS and YARN did not start"; }
  sleep 0.3
done
[ -s "$hconf/fs.uri" ] || fail "HDFS and YARN did not start within 120 s (see $it/hadoop.log)"
nn=$(cat "$hconf/fs.uri")
step "HDFS up at $nn, YARN: $(grep -o 'YARN ResourceManager at [^,]*' "$it/hadoop.log")"

submit() { SEQSPARK_DRIVER_MEMORY=1g "$root/submit-scripts/seqspark-submit" --master "$url" "$@"; }
# The same in the background, as one process: $! is the driver's JVM itself (seqspark-submit execs java).
submit_bg() { SEQSPARK_DRIVER_MEMORY=1g exec "$root/submit-scripts/seqspark-submit" --master "$url" "$@"; }
# Every training run: the same settings; the workers' models are combined after every batch (about 13 rounds
# an epoch), so "mid-epoch" is a moment the driver's progress lines show, with most of the epoch still to go.
train_args=(train --config "$nn/it/conf/char-gru.properties" --set "data.path=$nn/it/corpus.txt"
  --set model.hidden_size=32 --set train.epochs=3 --set dist.workers=2 --set dist.sync_every=1
  --set generate.prefix=tom --set generate.length=20)

# Waits until FILE has a line matching PATTERN while process PID runs.
wait_for() {
  local file=$1 pattern=$2 pid=$3
  for _ in $(seq 1 900); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -20 "$file" >&2; fail "the job ended before '$pattern'"; }
    sleep 0.2
  done
  fail "no '$pattern' in $file within 180 s"
}

# Once the background job $job's log LOG shows epoch 2 under way, sends SIGNAL to the first process matching
# PATTERN (an executor's JVM) and waits for the job to finish by itself; sets $victim.
signal_mid_epoch() {  # signal, pgrep pattern, log, what the process is
  local sig=$1 pattern=$2 log=$3 what=$4
  wait_for "$log" "train: epoch 2/3  round " "$job"
  victim=$(pgrep -f "$pattern" | head -1 || true)
  [ -n "$victim" ] || fail "no $what to send SIG$sig"
  kill -"$sig" "$victim"
  wait "$job" || { tail -20 "$log" >&2; fail "the job whose $what got SIG$sig did not finish"; }
  job=
}

# 1. Cluster deploy mode: the driver runs on a worker; its model must land on HDFS, not in its work directory.
submit --deploy-mode cluster --conf spark.standalone.submit.waitAppCompletion=true -- \
  "${train_args[@]}" --output "$nn/it/ref" >"$it/ref.submit.out" 2>"$it/ref.submit.err" \
  || { tail -20 "$it/ref.submit.err" >&2; fail "the cluster-mode submission failed"; }
driver=$(ls -d "$SEQSPARK_CLUSTER_DIR"/work*/driver-* 2>/dev/null | head -1)
[ -n "$driver" ] || fail "no cluster-mode driver ran (see $it/ref.submit.err)"
# (spark-submit exits 0 even when a cluster-mode driver fails: its own stderr says how it ended)
grep -q "train: model written to $nn/it/ref" "$driver/stderr" || { tail -20 "$driver/stderr" >&2; fail "the cluster-mode driver failed"; }
grep -q "on spark://127.0.0.1:$SEQSPARK_MASTER_PORT" "$driver/stderr" || fail "the cluster-mode job did not run on the cluster"
sample=$(sed -n 's/^greedy:  //p' "$driver/stdout")
sampled=$(grep '^sampled: ' "$driver/stdout" || true)
[ -n "$sample" ] && [ -n "$sampled" ] || fail "the cluster-mode driver printed no greedy and sampled continuations"
step "1. cluster deploy mode: trained, model on HDFS; greedy sample: $sample"

# 2. One executor SIGKILLed mid-epoch: Spark replaces it and reruns its tasks; the job ends by itself.
submit_bg --deploy-mode client -- "${train_args[@]}" --output "$nn/it/executor-kill" \
  >"$it/executor-kill.out" 2>"$it/executor-kill.err" &
job=$!
signal_mid_epoch KILL "$SEQSPARK_CLUSTER_DIR/spark-home/.*CoarseGrainedExecutorBackend" "$it/executor-kill.err" executor
grep -q "Lost executor" "$it/executor-kill.err" || fail "the driver did not notice the killed executor"
step "2. executor $victim killed in epoch 2: the job finished by itself"

# 3. The driver SIGKILLed mid-epoch, then the same command with --resume.
submit_bg --deploy-mode client -- "${train_args[@]}" --output "$nn/it/driver-kill" \
  >"$it/driver-kill.out" 2>"$it/driver-kill.err" &
job=$!
sleep 1
grep -q "org.apache.spark.deploy.SparkSubmit" "/proc/$job/cmdline" 2>/dev/null || fail "the background job is not the driver JVM itself"
wait_for "$it/driver-kill.err" "train: epoch 2/3  round " "$job"
kill -9 "$job"
wait "$job" 2>/dev/null && fail "the killed driver exited 0"
job=
submit --deploy-mode client -- "${train_args[@]}" --output "$nn/it/driver-kill" --resume \
  >"$it/driver-resume.out" 2>"$it/driver-resume.err" \
  || { tail -20 "$it/driver-resume.err" >&2; fail "--resume after the driver was killed failed"; }
grep -q "train: epoch 2/3  train ppl" "$it/driver-resume.err" && ! grep -q "train: epoch 1/3" "$it/driver-resume.err" \
  || fail "the resumed run did not continue from the last checkpoint (epoch 1): $(grep 'train: epoch' "$it/driver-resume.err" | head -3)"
[ "$(sed -n 's/^greedy:  //p' "$it/driver-resume.out")" = "$sample" ] && [ "$(grep '^sampled: ' "$it/driver-resume.out")" = "$sampled" ] \
  || fail "the resumed run's samples differ from the reference's"
step "3. driver killed in epoch 2, resumed from the epoch-1 checkpoint on HDFS"

# 4. Score and generate from the HDFS model, outputs on HDFS: score and batch generate side by side on the
# cluster (one core each), one-prefix generation (no Spark job) meanwhile.
submit_bg --deploy-mode client --total-executor-cores 1 --conf spark.executor.heartbeatInterval=2s -- \
  score --model "$nn/it/ref" --input "$nn/it/corpus.txt" --output "$nn/it/scores" --progress 1 \
  >"$it/score.out" 2>"$it/score.err" &
job=$!
submit_bg --deploy-mode client --total-executor-cores 1 -- generate --model "$nn/it/ref" \
  --prefixes "$nn/it/prefixes.txt" --output "$nn/it/generated" --length 20 \
  >"$it/generate-batch.out" 2>"$it/generate-batch.err" &
job2=$!
gen=$(submit --deploy-mode client -- generate --model "$nn/it/ref" --prefix tom --length 20 2>"$it/generate.err" | tail -n 1) \
  || { tail -20 "$it/generate.err" >&2; fail "generate failed"; }
[ "$gen" = "$sample" ] || fail "generate from the HDFS model gave '$gen', the training run printed '$sample'"
wait "$job" || { tail -20 "$it/score.err" >&2; fail "score failed"; }
job=
wait "$job2" || { tail -20 "$it/generate-batch.err" >&2; fail "batch generate failed"; }
python3 - "$it/score.out" "$(wc -l <"$corpus")" <<'PY' || fail "score's totals are wrong"
import json, sys
t = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert t["records"] == int(sys.argv[2]) and t["tokens"] > 0, t
PY
grep -q "^score: [0-9,]* records  [0-9,]* tokens  [0-9]*% done" "$it/score.err" || fail "score printed no progress"
grep -q "^score: [0-9,]* records  [0-9,]* tokens  done in .*written to $nn/it/scores" "$it/score.err" \
  || fail "score printed no totals line on stderr"
grep -q "^generate: 4 prefixes  60 tokens generated  done in" "$it/generate-batch.err" || fail "batch generate's totals line"
step "4. score and generate from the HDFS model"

# 5a. Graceful decommissioning (Spark's spark.decommission.enabled): one executor told to leave mid-epoch (SIGPWR,
# what a cloud's notice of a spot instance's end sends), the way a cluster manager retires it. It finishes nothing
# more, its cached shard and kept shard states go with it; the master starts a new executor in its place.
submit_bg --deploy-mode client --conf spark.decommission.enabled=true -- "${train_args[@]}" --output "$nn/it/decommission" \
  >"$it/decommission.out" 2>"$it/decommission.err" &
job=$!
signal_mid_epoch PWR "$SEQSPARK_CLUSTER_DIR/spark-home/.*CoarseGrainedExecutorBackend" "$it/decommission.err" executor
grep -q "Received executor [0-9]* decommissioned message" "$it/decommission.err" || fail "the driver was not told of the decommissioning"
kill -0 "$victim" 2>/dev/null && fail "the decommissioned executor $victim is still running"
step "5a. executor $victim decommissioned in epoch 2: it left, the job finished by itself"

# 5b. Dynamic allocation (with shuffle tracking, as on a cluster without an external shuffle service): from one
# executor, at most two, an idle one removed at once. Three shards on two slots leave one executor idle every
# round, so it is removed, and the next round's waiting task brings a new one: executors come and go all through
# the run, each new one without the shards' cached data or kept states. Against the same job on fixed executors.
dyn_args=(train --config "$nn/it/conf/char-gru.properties" --set "data.path=$nn/it/corpus-large.txt"
  --set model.hidden_size=384 --set train.epochs=2 --set dist.workers=3 --set dist.sync_every=28 --set generate.length=0)
submit --deploy-mode client -- "${dyn_args[@]}" --output "$nn/it/fixed" >"$it/fixed.out" 2>"$it/fixed.err" \
  || { tail -20 "$it/fixed.err" >&2; fail "the fixed-executor run failed"; }
submit --deploy-mode client --conf spark.dynamicAllocation.enabled=true \
  --conf spark.dynamicAllocation.shuffleTracking.enabled=true --conf spark.dynamicAllocation.initialExecutors=1 \
  --conf spark.dynamicAllocation.minExecutors=1 --conf spark.dynamicAllocation.maxExecutors=2 \
  --conf spark.dynamicAllocation.executorIdleTimeout=0s --conf spark.dynamicAllocation.cachedExecutorIdleTimeout=0s \
  --conf spark.dynamicAllocation.schedulerBacklogTimeout=1s -- "${dyn_args[@]}" --output "$nn/it/dynamic" \
  >"$it/dynamic.out" 2>"$it/dynamic.err" || { tail -20 "$it/dynamic.err" >&2; fail "the dynamic-allocation run failed"; }
# The master's log says what the application asked for: executors removed, and executors added after a removal.
app=$(sed -n 's/.*Registered app .* with ID \(app-[0-9-]*\)$/\1/p' "$SEQSPARK_CLUSTER_DIR/logs/master.log" | tail -1)
sed -n "/Registered app .* $app\$/,\$p" "$SEQSPARK_CLUSTER_DIR/logs/master.log" \
  | grep -E "Launching executor $app/|$app requests to kill executors" >"$it/dynamic.executors" || true
removed=$(grep -c "requests to kill executors" "$it/dynamic.executors" || true)
added=$(sed -n '/requests to kill executors/,$p' "$it/dynamic.executors" | grep -c "Launching executor" || true)
[ "$removed" -ge 1 ] && [ "$added" -ge 1 ] \
  || { cat "$it/dynamic.executors" >&2; fail "dynamic allocation did not add and remove executors during the run"; }
step "5b. dynamic allocation: $removed executors removed, $added added after a removal, during one run"

# Everything written to HDFS, copied back exactly, checked here.
java -Xmx256m -cp "$hadoop_cp" dev.seqspark.it.MiniHadoop get "$nn/it" "$it/from-hdfs" 2>>"$it/hadoop.log" \
  || fail "cannot copy /it back from HDFS"
h=$it/from-hdfs
for d in ref executor-kill driver-kill decommission fixed dynamic; do
  for f in _SEQSPARK_COMMIT config.json vocab.json weights.safetensors metrics.jsonl checkpoint.json; do
    [ -s "$h/$d/$f" ] || fail "$nn/it/$d/$f missing"
  done
done
cmp "$h/ref/weights.safetensors" "$h/executor-kill/weights.safetensors" \
  || fail "an executor killed mid-training changed the weights"
cmp "$h/ref/weights.safetensors" "$h/driver-kill/weights.safetensors" \
  || fail "a driver killed mid-epoch and --resume changed the weights"
cmp "$h/ref/weights.safetensors" "$h/decommission/weights.safetensors" \
  || fail "an executor decommissioned mid-epoch changed the weights"
cmp "$h/fixed/weights.safetensors" "$h/dynamic/weights.safetensors" \
  || fail "executors added and removed by dynamic allocation changed the weights"
leftovers=$(ls -a "$h" | grep -E '^\.[a-z-]+\.(tmp|old)-' || true)
[ -z "$leftovers" ] || fail "leftovers on HDFS: $leftovers"
ls "$h/scores"/part-* >/dev/null 2>&1 && [ -e "$h/scores/_SUCCESS" ] || fail "no score output on HDFS"
ls "$h/generated"/part-* >/dev/null 2>&1 || fail "no generate output on HDFS"
python3 - "$h" <<'PY' || fail "models or metrics are wrong"
import json, sys
h = sys.argv[1]
for d, epochs, workers in [("ref", 3, 2), ("executor-kill", 3, 2), ("driver-kill", 3, 2), ("decommission", 3, 2),
                           ("fixed", 2, 3), ("dynamic", 2, 3)]:
    m = [json.loads(l) for l in open(f"{h}/{d}/metrics.jsonl")]
    assert [x["epoch"] for x in m] == list(range(1, epochs + 1)), (d, m)
    assert all(x["workers"] == workers and x["tokens_per_second"] > 0 and x["valid_perplexity"] < 40 for x in m), (d, m)
    assert json.load(open(f"{h}/{d}/checkpoint.json"))["epochs_done"] == epochs, d
c = json.load(open(f"{h}/ref/config.json"))
assert c["format"] == "seqspark-model" and c["cell"] == "gru" and c["hidden_size"] == 32, c
assert len(json.load(open(f"{h}/ref/vocab.json"))["tokens"]) == c["vocab_size"]
rows = [json.loads(l) for p in __import__("glob").glob(f"{h}/generated/part-*") for l in open(p)]
assert sorted(r["id"] for r in rows) == [0, 1, 2, 3], rows
m = [json.loads(l) for l in open(f"{h}/ref/metrics.jsonl")]
print("it: metrics", [(x["epoch"], round(x["valid_perplexity"], 3)) for x in m], file=sys.stderr)
PY
step "weights byte for byte equal to the undisturbed run's after an executor kill, a driver kill + --resume, a decommissioning, dynamic allocation"

# One application's executor logs (its containers' stderr, or a standalone worker's): every executor that did any
# work loaded the OpenBLAS bundled in the application jar (no cluster here has it among its own jars), whatever
# the machine has installed; every executor that computed took its driver's path for the time steps' multiplies
# (VectorGemm or BLAS), set in its environment by the driver's session (Sessions.settings), all of them the same.
check_executor_logs() {  # app, stderr files...
  local app=$1; shift
  if [ "$(uname -m)" = x86_64 ]; then
    grep -l "BLAS native (JNIBLAS, bundled OpenBLAS" "$@" >/dev/null || fail "no executor of $app loaded the bundled OpenBLAS"
    for f in "$@"; do
      if grep -q "BLAS" "$f" && ! grep -q "BLAS native (JNIBLAS, bundled OpenBLAS" "$f"; then
        grep "BLAS" "$f" >&2; fail "executor $f did not load the bundled OpenBLAS"
      fi
    done
  fi
  for f in "$@"; do
    if grep -q "kernels " "$f" && ! grep -q "time-step multiplies: .*(SEQSPARK_VECTOR_GEMM=\(true\|false\))$" "$f"; then
      grep "kernels " "$f" >&2; fail "executor $f chose its multiply path itself, not from its driver"
    fi
  done
  local paths
  paths=$(grep -h -o "time-step multiplies: .*" "$@" | sort -u)
  [ -n "$paths" ] || fail "no executor of $app logged its multiply path"
  [ "$(wc -l <<<"$paths")" = 1 ] || fail "the executors of $app multiplied in different ways: $paths"
}
apps=$(ls -d "$SEQSPARK_CLUSTER_DIR"/work*/app-* 2>/dev/null | xargs -n1 basename | sort -u)
[ -n "$apps" ] || fail "no executor logs under $SEQSPARK_CLUSTER_DIR/work*/app-*/"
for app in $apps; do
  # shellcheck disable=SC2046
  check_executor_logs "$app" $(ls "$SEQSPARK_CLUSTER_DIR"/work*/"$app"/*/stderr)
done
step "$(echo "$apps" | wc -l) standalone applications, every executor: $(grep -h -o "BLAS native (JNIBLAS, bundled[^)]*)" \
  "$SEQSPARK_CLUSTER_DIR"/work*/app-*/*/stderr | sort -u); $(grep -h -o "time-step multiplies: .*" \
  "$SEQSPARK_CLUSTER_DIR"/work*/app-*/*/stderr | sort -u)"
"$root/submit-scripts/stop-cluster" >/dev/null 2>&1

# YARN. SPARK_HOME: a stand-in Spark 4.1.0 distribution with YARN support (this project's Spark jars, Spark's YARN
# module made for 4.1.0 by dev.seqspark.it.SparkYarnModule, a bin/spark-submit doing what a distribution's does);
# as on a real cluster, the bundled OpenBLAS is not among its jars. Its jars are on the node already
# (spark.yarn.jars=local:...), so only the application jar and the configuration travel with each job.
dist=$it/spark-dist
mkdir -p "$dist/jars" "$dist/conf" "$dist/bin"
tr ':' '\n' <"$root/target/classpath.txt" | grep -v '/org/bytedeco/openblas/' \
  | while read -r j; do [ -n "$j" ] && ln -sf "$j" "$dist/jars/"; done
java -cp "$root/target/test-classes:$(cat "$root/target/classpath.txt")" dev.seqspark.it.SparkYarnModule \
  "$(cat "$root/target/spark-yarn-classpath.txt")" "$dist/jars/spark-yarn_2.13-4.1.0-it.jar" 2>>"$it/hadoop.log" \
  || fail "cannot make Spark's YARN module (see $it/hadoop.log)"
# The containers' log configuration (Spark ships SPARK_HOME/conf with each job): executors say which BLAS and
# multiply path they use, as on the standalone cluster.
cp "$SEQSPARK_CLUSTER_DIR/spark-home/conf/log4j2.properties" "$dist/conf/"
cat >"$dist/bin/spark-submit" <<SH
#!/usr/bin/env bash
# What a Spark distribution's bin/spark-submit does: SparkSubmit on its jars, HADOOP_CONF_DIR on the classpath.
exec java -Xmx1g @$root/conf/jvm.options -Dlog4j2.configurationFile=$root/conf/log4j2.properties \\
  -cp "\$HADOOP_CONF_DIR:$dist/jars/*" org.apache.spark.deploy.SparkSubmit "\$@"
SH
chmod +x "$dist/bin/spark-submit"
# The README's YARN commands, with this machine's sizes (one NodeManager of 4 GB: an ApplicationMaster and two
# one-core executors), one attempt per application, and the driver's web UI off: a client-mode driver's UI start
# can lose a race with the ApplicationMaster's registration, which adds YARN's proxy filter to the UI's handlers
# while they start (a ConcurrentModificationException in Jetty's ServletHandler failed one run here).
yarn_opts=(--master yarn --num-executors 2 --executor-cores 1 --executor-memory 512m --driver-memory 768m
  --conf spark.executor.memoryOverhead=384m --conf "spark.yarn.jars=local:$dist/jars/*" --conf spark.yarn.maxAppAttempts=1
  --conf spark.ui.enabled=false)
yarn_submit() { HADOOP_CONF_DIR=$hconf SPARK_HOME=$dist "$root/submit-scripts/seqspark-submit" "${yarn_opts[@]}" "$@"; }
yarn_submit_bg() { HADOOP_CONF_DIR=$hconf SPARK_HOME=$dist exec "$root/submit-scripts/seqspark-submit" "${yarn_opts[@]}" "$@"; }
yarn_logs=$(sed -n 's/.*container logs under \(.*\)$/\1/p' "$it/hadoop.log")
[ -d "$yarn_logs" ] || fail "YARN's work directory is not known (see $it/hadoop.log)"
# The directory of the newest application's container logs.
newest_app() { find "$yarn_logs" -mindepth 2 -maxdepth 2 -type d -name 'application_*' | sort -t_ -k3 | tail -1; }

# 6. Cluster deploy mode: the driver runs in the ApplicationMaster's container; the model lands on HDFS.
yarn_submit --deploy-mode cluster -- "${train_args[@]}" --output "$nn/it/yarn-cluster" \
  >"$it/yarn-cluster.out" 2>"$it/yarn-cluster.err" || { tail -20 "$it/yarn-cluster.err" >&2; fail "the YARN cluster-mode job failed"; }
am=$(ls -d "$(newest_app)"/container_*_000001)
grep -q "train: model written to $nn/it/yarn-cluster" "$am/stderr" || { tail -20 "$am/stderr" >&2; fail "the YARN cluster-mode driver failed"; }
[ "$(sed -n 's/^greedy:  //p' "$am/stdout")" = "$sample" ] || fail "the YARN cluster-mode driver's sample differs from the standalone run's"
cluster_app=$(basename "$(newest_app)")
step "6. YARN cluster deploy mode: $cluster_app trained, model on HDFS"

# 7. Client mode, one executor's container JVM SIGKILLed mid-epoch: YARN reports the container lost, Spark asks for
# another and reruns its tasks; the job ends by itself.
yarn_submit_bg -- "${train_args[@]}" --output "$nn/it/yarn-executor-kill" >"$it/yarn-executor-kill.out" 2>"$it/yarn-executor-kill.err" &
job=$!
signal_mid_epoch KILL "^\S*/bin/java .*$it/hadoop/.*YarnCoarseGrainedExecutorBackend" "$it/yarn-executor-kill.err" \
  "YARN executor container"
grep -q "Lost executor" "$it/yarn-executor-kill.err" || fail "the driver did not notice the killed executor container"
step "7. YARN client mode: executor container $victim killed in epoch 2, the job finished by itself"

# 8. Score and predict from models on HDFS, on YARN (client mode, side by side) and in local mode. The classifier:
# two parts of the corpus told apart, trained here in local mode.
sed -n '4001,4800p' "$root/data/tom_sawyer.txt" >"$it/late.txt"
"$root/submit-scripts/seqspark" passages --book early="$corpus" --book late="$it/late.txt" \
  --output "$it/passages" >/dev/null 2>"$it/passages.err" || { tail -5 "$it/passages.err" >&2; fail "passages failed"; }
java -Xmx256m -cp "$hconf:$hadoop_cp" dev.seqspark.it.MiniHadoop put "$it/passages/test.tsv" "$nn/it/passages/test.tsv" \
  2>>"$it/hadoop.log" || fail "cannot put the test passages on HDFS"
"$root/submit-scripts/seqspark" train --task classify --config "$root/conf/authorship.properties" \
  --set "data.path=$it/passages/train.tsv" --set "data.test_path=$it/passages/test.tsv" --set model.embedding_dim=16 \
  --set model.blocks=gru:32 --set train.epochs=1 --output "$nn/it/classifier" >/dev/null 2>"$it/classifier.err" \
  || { tail -5 "$it/classifier.err" >&2; fail "training the classifier failed"; }
yarn_submit_bg --num-executors 1 -- score --model "$nn/it/ref" --input "$nn/it/corpus.txt" --output "$nn/it/yarn-scores" \
  >"$it/yarn-score.out" 2>"$it/yarn-score.err" &
job=$!
yarn_submit_bg --num-executors 1 -- predict --model "$nn/it/classifier" --input "$nn/it/passages/test.tsv" \
  --output "$nn/it/yarn-predicted" >"$it/yarn-predict.out" 2>"$it/yarn-predict.err" &
job2=$!
wait "$job" || { tail -20 "$it/yarn-score.err" >&2; fail "score on YARN failed"; }
job=
wait "$job2" || { tail -20 "$it/yarn-predict.err" >&2; fail "predict on YARN failed"; }
job2=
"$root/submit-scripts/seqspark" score --model "$nn/it/ref" --input "$nn/it/corpus.txt" --output "$nn/it/local-scores" \
  >"$it/local-score.out" 2>"$it/local-score.err" || { tail -5 "$it/local-score.err" >&2; fail "score in local mode failed"; }
"$root/submit-scripts/seqspark" predict --model "$nn/it/classifier" --input "$nn/it/passages/test.tsv" \
  --output "$nn/it/local-predicted" >"$it/local-predict.out" 2>"$it/local-predict.err" \
  || { tail -5 "$it/local-predict.err" >&2; fail "predict in local mode failed"; }
step "8. score and predict from the HDFS models on YARN and in local mode"

# What YARN says of every application, and where its containers' logs are.
java -Xmx256m -cp "$hconf:$hadoop_cp" dev.seqspark.it.MiniHadoop apps >"$it/yarn-apps.txt" 2>>"$it/hadoop.log" \
  || fail "cannot list YARN's applications"
while read -r line; do
  app=${line%% *}
  echo "it: yarn: $line; logs: $(ls -d "$yarn_logs"/*/"$app"/container_* | wc -l) containers in $(dirname "$(ls -d "$yarn_logs"/*/"$app")")/$app" >&2
done <"$it/yarn-apps.txt"
[ "$(wc -l <"$it/yarn-apps.txt")" = 4 ] || fail "expected 4 YARN applications, YARN lists $(wc -l <"$it/yarn-apps.txt")"
! grep -v "state FINISHED  final status SUCCEEDED" "$it/yarn-apps.txt" >/dev/null || fail "a YARN application did not succeed"
# (The cluster-mode application's executors log as the configuration seqspark-submit ships for its driver says:
# warnings only. Its weights, checked below, are the standalone run's.)
for d in $(find "$yarn_logs" -mindepth 2 -maxdepth 2 -type d -name 'application_*' ! -name "$cluster_app"); do
  # shellcheck disable=SC2046
  check_executor_logs "$(basename "$d")" $(ls "$d"/container_*/stderr | grep -v '_000001/stderr$')
done
step "every YARN application FINISHED, SUCCEEDED; every client-mode executor container as on the standalone cluster"

java -Xmx256m -cp "$hadoop_cp" dev.seqspark.it.MiniHadoop get "$nn/it" "$it/from-hdfs-yarn" 2>>"$it/hadoop.log" \
  || fail "cannot copy /it back from HDFS"
h=$it/from-hdfs-yarn
cmp "$it/from-hdfs/ref/weights.safetensors" "$h/yarn-cluster/weights.safetensors" \
  || fail "the YARN cluster-mode run's weights differ from the standalone cluster's"
cmp "$it/from-hdfs/ref/weights.safetensors" "$h/yarn-executor-kill/weights.safetensors" \
  || fail "an executor container killed on YARN changed the weights"
cmp <(cat "$h"/yarn-scores/part-* | sort) <(cat "$h"/local-scores/part-* | sort) \
  || fail "score on YARN and in local mode differ"
# predict: the same prediction for every passage, probabilities within 1e-6 (they differ in the eighth decimal
# here: docs/correctness.md).
python3 - "$h" <<'PY' || fail "predict on YARN and in local mode differ"
import glob, json, sys
h = sys.argv[1]
rows = lambda d: {r["id"]: r for p in glob.glob(f"{h}/{d}/part-*") for r in map(json.loads, open(p))}
yarn, local = rows("yarn-predicted"), rows("local-predicted")
n = len(local)
assert n > 10 and sorted(yarn) == sorted(local) == list(range(n)), (sorted(yarn), sorted(local))
worst = 0.0
for i, r in local.items():
    assert yarn[i]["prediction"] == r["prediction"] and yarn[i]["label"] == r["label"], (yarn[i], r)
    worst = max([worst] + [abs(yarn[i]["probability"][k] - p) for k, p in r["probability"].items()])
assert worst <= 1e-6, worst
print(f"it: predict: {n} passages, the same predictions; probabilities at most {worst:.1e} apart", file=sys.stderr)
PY
step "YARN: weights byte for byte the standalone run's (cluster mode, executor container killed); score equal to local mode's, predict's predictions too"

cleanup
trap - EXIT
sleep 1
if pgrep -f "$it/" >/dev/null; then
  pgrep -af "$it/" >&2
  fail "processes of the cluster or of HDFS are still running"
fi
echo "it: PASS (HDFS, standalone cluster: cluster deploy mode, executor kill, driver kill + resume, score, generate, decommissioning, dynamic allocation; YARN: cluster deploy mode, executor container kill, score, predict; $(( $(date +%s) - t0 )) s)" >&2
