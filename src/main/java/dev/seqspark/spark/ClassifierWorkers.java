package dev.seqspark.spark;

import dev.seqspark.nn.ClassifierSpec;
import dev.seqspark.train.ClassMetrics;
import dev.seqspark.train.ClassifierTrainConfig;
import dev.seqspark.train.ClassifierTrainer;
import dev.seqspark.train.ClassifierValidation;
import dev.seqspark.train.Evaluator;
import dev.seqspark.train.HiddenState;
import dev.seqspark.train.ModelState;
import dev.seqspark.train.RoundSum;
import dev.seqspark.train.ShardTrainer;
import dev.seqspark.train.Workers;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Classification {@link Workers} on Spark: the rounds are {@link SparkRounds}' (broadcast once, every cached shard
 * in its own task with a pooled {@link ClassifierTrainer}, a fixed summation tree), so the driver's loop, the
 * outer update and checkpoints are the language model's. Validation runs on the shards' validation records and
 * merges their counts in shard order: equal to dev.seqspark.train.LocalClassifierWorkers bit for bit.
 */
public final class ClassifierWorkers implements Workers, ClassifierValidation {
    private final JavaSparkContext jsc;
    private final ClassifierCorpus corpus;
    private final ClassifierSpec spec;
    private final ClassifierTrainConfig cfg;
    private final boolean failFirstAttempts;
    private final String runId = java.util.UUID.randomUUID().toString();
    private ClassMetrics last;

    public ClassifierWorkers(JavaSparkContext jsc, ClassifierCorpus corpus, ClassifierSpec spec, ClassifierTrainConfig cfg) {
        this(jsc, corpus, spec, cfg, false);
    }

    /** For the retry test: every training task's first attempt fails after its work. */
    ClassifierWorkers(JavaSparkContext jsc, ClassifierCorpus corpus, ClassifierSpec spec, ClassifierTrainConfig cfg,
                      boolean failFirstAttempts) {
        this.jsc = jsc;
        this.corpus = corpus;
        this.spec = spec;
        this.cfg = cfg;
        this.failFirstAttempts = failFirstAttempts;
        this.last = new ClassMetrics(spec.numClasses());
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
            out[k] = ClassifierTrainer.numBatches(cfg, corpus.shardRecords(k));
        }
        return out;
    }

    @Override
    public RoundSum train(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches) {
        jsc.setJobDescription(String.format("seqspark train (classify): epoch %d, batches %d..%s on %d workers", epoch + 1,
                fromBatch, maxBatches > 0 ? String.valueOf(fromBatch + maxBatches - 1) : "end", corpus.workers));
        return SparkRounds.train(jsc, corpus.shards, corpus.workers, runId, new ClassifierTask(spec, cfg),
                failFirstAttempts, state, carried, epoch, fromBatch, maxBatches);
    }

    /** A classifier's round on a shard: batches of its length-bucketed plan for the epoch; nothing carried. */
    record ClassifierTask(ClassifierSpec spec, ClassifierTrainConfig cfg)
            implements SparkRounds.Task<ClassifierShard, ClassifierTrainer> {
        @Override
        public int index(ClassifierShard shard) {
            return shard.index();
        }

        @Override
        public ClassifierTrainer newTrainer() {
            return new ClassifierTrainer(spec, cfg);
        }

        @Override
        public ShardTrainer.Result train(ClassifierTrainer trainer, ClassifierShard shard, SparkRounds.RoundInput r) {
            int[][] plan = ClassifierTrainer.plan(cfg, shard.train(), r.epoch(), shard.index());
            return trainer.train(r.state(), shard.train(), plan, r.fromBatch(), r.maxBatches(), r.epoch(), shard.index(), null);
        }
    }

    @Override
    public Evaluator.Loss validate(float[] weights) {
        ClassMetrics total = new ClassMetrics(spec.numClasses());
        if (corpus.validRecords > 0) {
            jsc.setJobDescription("seqspark train (classify): validation on " + corpus.workers + " workers");
            Broadcast<float[]> w = jsc.broadcast(weights);
            ClassifierSpec s = spec;
            int batch = cfg.batchSize();
            List<Tuple2<Integer, ClassMetrics>> parts = new ArrayList<>(corpus.shards.map(shard -> new Tuple2<>(shard.index(),
                    ClassifierTrainer.evaluate(s, w.value(), shard.valid(), batch))).collect());
            w.destroy();
            parts.sort(Comparator.comparingInt(Tuple2::_1));   // a fixed order of additions
            for (Tuple2<Integer, ClassMetrics> p : parts) {
                total.merge(p._2());
            }
        }
        last = total;
        return new Evaluator.Loss(total.lossSum(), total.count());
    }

    @Override
    public ClassMetrics lastValidation() {
        return last;
    }

    @Override
    public long trainingTokens() {
        return corpus.trainRecords;
    }

    @Override
    public void close() {
        corpus.close();
    }
}
