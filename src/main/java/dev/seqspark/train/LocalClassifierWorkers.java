package dev.seqspark.train;

import dev.seqspark.nn.ClassifierSpec;
import java.util.List;
import java.util.Map;

/**
 * Classification {@link Workers} in this JVM, one shard after another: for tests, and the reference the
 * distributed run (dev.seqspark.spark.ClassifierWorkers) must equal bit for bit. Validation evaluates each
 * shard's validation records and merges the counts in shard order, as the distributed run does.
 */
public final class LocalClassifierWorkers implements Workers, ClassifierValidation {
    private final ClassifierSpec spec;
    private final ClassifierTrainConfig cfg;
    private final List<LabeledRecords> train;
    private final List<LabeledRecords> valid;
    private final ClassifierTrainer trainer;
    private ClassMetrics last;

    /** Shard k trains {@code train.get(k)} and validates {@code valid.get(k)} (same number of shards). */
    public LocalClassifierWorkers(ClassifierSpec spec, ClassifierTrainConfig cfg, List<LabeledRecords> train,
                                  List<LabeledRecords> valid) {
        if (train.isEmpty() || train.size() != valid.size()) {
            throw new IllegalArgumentException("need at least one shard, and validation records for each");
        }
        this.spec = spec;
        this.cfg = cfg;
        this.train = List.copyOf(train);
        this.valid = List.copyOf(valid);
        this.trainer = new ClassifierTrainer(spec, cfg);
        this.last = new ClassMetrics(spec.numClasses());
    }

    @Override
    public int count() {
        return train.size();
    }

    @Override
    public int slots() {
        return 1;
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[train.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = ClassifierTrainer.numBatches(cfg, train.get(k).size());
        }
        return out;
    }

    @Override
    public RoundSum train(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches) {
        RoundSum sum = new RoundSum();
        for (int k = 0; k < train.size(); k++) {
            long t0 = System.nanoTime();
            int[][] plan = ClassifierTrainer.plan(cfg, train.get(k), epoch, k);
            ShardTrainer.Result r = trainer.train(state, train.get(k), plan, fromBatch, maxBatches, epoch, k, null);
            sum.add(k, r, (System.nanoTime() - t0) / 1e9);
        }
        return sum;
    }

    @Override
    public Evaluator.Loss validate(float[] weights) {
        ClassMetrics m = new ClassMetrics(spec.numClasses());
        for (LabeledRecords v : valid) {
            m.merge(ClassifierTrainer.evaluate(spec, weights, v, cfg.batchSize()));
        }
        last = m;
        return new Evaluator.Loss(m.lossSum(), m.count());
    }

    @Override
    public ClassMetrics lastValidation() {
        return last;
    }

    @Override
    public long trainingTokens() {
        long n = 0;
        for (LabeledRecords r : train) {
            n += r.size();
        }
        return n;
    }
}
