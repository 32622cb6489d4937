package dev.seqspark.spark;

import dev.seqspark.train.ModelState;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.Shard;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.Task;
import dev.seqspark.train.Validation;
import dev.seqspark.train.Workers;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * {@link Workers} on Spark, for either task: every round broadcasts its input (the state, what each shard carried
 * out of its last round, which batches) once, trains every cached shard in its own task with a {@link ShardTrainer}
 * pooled on its executor ({@link ExecutorTrainers}), and sums the results in a fixed tree ({@link TreeSum}), so a
 * run gives the same bits whatever the retries. Validation merges the shards' in shard order. No maths here.
 */
public final class SparkWorkers<S extends Shard> implements Workers {

    /** What every task of a round reads. */
    record RoundInput(ModelState state, Map<Integer, Serializable> carried, int epoch, int fromBatch, int maxBatches)
            implements Serializable {}

    private final JavaSparkContext jsc;
    private final Corpus<S> corpus;
    private final Task<S> task;
    private final boolean failFirstAttempts;
    private final String runId = java.util.UUID.randomUUID().toString();   // keys the executors' trainer pools

    public SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task) {
        this(jsc, corpus, task, false);
    }

    /** For the retry test: every training task's first attempt fails after its work, so Spark must retry it. */
    SparkWorkers(JavaSparkContext jsc, Corpus<S> corpus, Task<S> task, boolean failFirstAttempts) {
        this.jsc = jsc;
        this.corpus = corpus;
        this.task = task;
        this.failFirstAttempts = failFirstAttempts;
    }

    @Override
    public int count() {
        return corpus.workers();
    }

    @Override
    public int slots() {
        return Math.min(corpus.workers(), jsc.defaultParallelism());
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[corpus.workers()];
        for (int k = 0; k < out.length; k++) {
            out[k] = task.batches(corpus.shardSize(k), epoch, k);
        }
        return out;
    }

    @Override
    public RoundSum train(ModelState state, Map<Integer, Serializable> carried, int epoch, int fromBatch, int maxBatches) {
        jsc.setJobDescription(String.format("seqspark train: epoch %d, batches %d..%s on %d workers", epoch + 1,
                fromBatch, maxBatches > 0 ? String.valueOf(fromBatch + maxBatches - 1) : "end", corpus.workers()));
        Broadcast<RoundInput> in = jsc.broadcast(new RoundInput(state, new HashMap<>(carried), epoch, fromBatch, maxBatches));
        Task<S> t = task;
        String run = runId;
        boolean fail = failFirstAttempts;
        JavaPairRDD<Integer, TreeSum.Outcome> out = corpus.shards().mapToPair(shard -> {
            RoundInput r = in.value();
            int k = shard.index();
            ShardTrainer<S> trainer = ExecutorTrainers.take(run, k, () -> new ShardTrainer<>(t));
            long t0 = System.nanoTime();   // building a trainer counts as the round's overhead
            ShardTrainer.Result res = trainer.train(r.state(), r.carried().get(k), shard, r.epoch(), r.fromBatch(),
                    r.maxBatches(), null);
            ExecutorTrainers.give(run, k, trainer);
            if (fail && TaskContext.get().attemptNumber() == 0) {
                throw new IllegalStateException("injected failure of shard " + k + ", attempt 0");
            }
            return new Tuple2<>(k, new TreeSum.Outcome(res, (System.nanoTime() - t0) / 1e9));
        });
        RoundSum sum = TreeSum.sum(out, corpus.workers());
        in.destroy();
        carried.putAll(sum.carried());
        return sum;
    }

    @Override
    public Validation validate(float[] weights) {
        Validation total = task.noValidation();
        if (!corpus.hasValidation()) {
            return total;
        }
        jsc.setJobDescription("seqspark train: validation on " + corpus.workers() + " workers");
        Broadcast<float[]> w = jsc.broadcast(weights);
        Task<S> t = task;
        List<Tuple2<Integer, Validation>> parts = new ArrayList<>(corpus.shards()
                .mapToPair(shard -> new Tuple2<>(shard.index(), t.validate(w.value(), shard))).collect());
        w.destroy();
        parts.sort(Comparator.comparingInt(Tuple2::_1));   // a fixed order of additions
        for (Tuple2<Integer, Validation> p : parts) {
            total = total.plus(p._2());
        }
        return total;
    }

    @Override
    public void close() {
        corpus.close();
    }
}
