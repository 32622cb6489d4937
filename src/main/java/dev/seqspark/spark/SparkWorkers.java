package dev.seqspark.spark;

import dev.seqspark.nn.ModelSpec;
import dev.seqspark.train.Evaluator;
import dev.seqspark.train.HiddenState;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.TrainConfig;
import dev.seqspark.train.Workers;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * {@link Workers} on Spark: every round broadcasts the state (weights, optimizer state, each shard's
 * carried hidden state) once, trains every cached shard in its own task, and sums the results in a fixed
 * tree ({@link TreeSum}), as {@link SparkRounds} does for every task. No maths here: the shard trainer and the
 * averaging live in dev.seqspark.train.
 */
public final class SparkWorkers implements Workers {

    private final JavaSparkContext jsc;
    private final ShardedCorpus corpus;
    private final ModelSpec spec;
    private final TrainConfig cfg;
    private final boolean failFirstAttempts;
    private final String runId = java.util.UUID.randomUUID().toString();   // keys the executors' trainer pools

    public SparkWorkers(JavaSparkContext jsc, ShardedCorpus corpus, ModelSpec spec, TrainConfig cfg) {
        this(jsc, corpus, spec, cfg, false);
    }

    /** For the retry test: every training task's first attempt fails after its work, so Spark must retry it. */
    SparkWorkers(JavaSparkContext jsc, ShardedCorpus corpus, ModelSpec spec, TrainConfig cfg, boolean failFirstAttempts) {
        this.jsc = jsc;
        this.corpus = corpus;
        this.spec = spec;
        this.cfg = cfg;
        this.failFirstAttempts = failFirstAttempts;
    }

    @Override
    public int count() {
        return corpus.workers;
    }

    @Override
    public int slots() {
        return Math.min(corpus.workers, jsc.defaultParallelism());
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[corpus.workers];
        for (int k = 0; k < out.length; k++) {
            out[k] = ShardTrainer.numBatches(cfg, corpus.shardLength(k), epoch, k);
        }
        return out;
    }

    @Override
    public RoundSum train(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches) {
        jsc.setJobDescription(String.format("seqspark train: epoch %d, batches %d..%s on %d workers", epoch + 1,
                fromBatch, maxBatches > 0 ? String.valueOf(fromBatch + maxBatches - 1) : "end", corpus.workers));
        RoundSum sum = SparkRounds.train(jsc, corpus.shards, corpus.workers, runId, new LanguageModelTask(spec, cfg),
                failFirstAttempts, state, carried, epoch, fromBatch, maxBatches);
        carried.putAll(sum.hidden());
        return sum;
    }

    /** A language model's round on a shard: its batches of the sequential or random layout, hidden state carried. */
    record LanguageModelTask(ModelSpec spec, TrainConfig cfg) implements SparkRounds.Task<Shard, ShardTrainer> {
        @Override
        public int index(Shard shard) {
            return shard.index();
        }

        @Override
        public ShardTrainer newTrainer() {
            return new ShardTrainer(spec, cfg);
        }

        @Override
        public ShardTrainer.Result train(ShardTrainer trainer, Shard shard, SparkRounds.RoundInput r) {
            return trainer.train(r.state(), r.carried().get(shard.index()),
                    trainer.layout(shard.train(), 0, shard.train().length, r.epoch(), shard.index()),
                    r.fromBatch(), r.maxBatches(), r.epoch(), shard.index(), null);
        }
    }

    @Override
    public Evaluator.Loss validate(float[] weights) {
        if (corpus.validDims.rows() == 0) {
            return new Evaluator.Loss(0, 0);
        }
        jsc.setJobDescription("seqspark train: validation on " + corpus.workers + " workers");
        Broadcast<float[]> w = jsc.broadcast(weights);
        ModelSpec s = spec;
        Evaluator.Dims d = corpus.validDims;
        List<Tuple2<Integer, Evaluator.Loss>> parts = corpus.shards.mapToPair(shard -> new Tuple2<>(shard.index(),
                Evaluator.evaluateRows(s, w.value(), shard.valid(), 0, shard.validRows(), d.steps(), d.rowLength())))
                .collect();
        w.destroy();
        Evaluator.Loss total = new Evaluator.Loss(0, 0);
        List<Tuple2<Integer, Evaluator.Loss>> ordered = new java.util.ArrayList<>(parts);
        ordered.sort(java.util.Comparator.comparingInt(Tuple2::_1));   // a fixed order of additions
        for (Tuple2<Integer, Evaluator.Loss> p : ordered) {
            total = total.plus(p._2());
        }
        return total;
    }

    @Override
    public long trainingTokens() {
        return corpus.trainTokens;
    }

    @Override
    public void close() {
        corpus.close();
    }
}
