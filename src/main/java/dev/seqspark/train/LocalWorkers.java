package dev.seqspark.train;

import dev.seqspark.nn.ModelSpec;
import java.util.Map;

/** {@link Workers} in this JVM, one after another: for tests, and the reference the distributed run must equal. */
public final class LocalWorkers implements Workers {
    private final ModelSpec spec;
    private final TrainConfig cfg;
    private final int[] train;
    private final int[] valid;
    private final int shards;
    private final ShardTrainer trainer;

    /** {@code train} is split into {@code shards} contiguous ranges; {@code valid} may be empty. */
    public LocalWorkers(ModelSpec spec, TrainConfig cfg, int[] train, int[] valid, int shards) {
        if (shards <= 0) {
            throw new IllegalArgumentException("need at least one worker, got " + shards);
        }
        this.spec = spec;
        this.cfg = cfg;
        this.train = train;
        this.valid = valid;
        this.shards = shards;
        this.trainer = new ShardTrainer(spec, cfg);
    }

    static int shardStart(long n, int k, int w) {
        return (int) (k * n / w);
    }

    @Override
    public int count() {
        return shards;
    }

    @Override
    public int slots() {
        return 1;   // one after another
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[shards];
        for (int k = 0; k < shards; k++) {
            int from = shardStart(train.length, k, shards);
            out[k] = ShardTrainer.numBatches(cfg, shardStart(train.length, k + 1, shards) - from, epoch, k);
        }
        return out;
    }

    @Override
    public RoundSum train(ModelState state, Map<Integer, HiddenState> carried, int epoch, int fromBatch, int maxBatches) {
        RoundSum sum = new RoundSum();
        for (int k = 0; k < shards; k++) {
            int from = shardStart(train.length, k, shards);
            int len = shardStart(train.length, k + 1, shards) - from;
            long t0 = System.nanoTime();
            ShardTrainer.Result r = trainer.train(state, carried.get(k), trainer.layout(train, from, len, epoch, k),
                    fromBatch, maxBatches, epoch, k, null);
            sum.add(k, r, (System.nanoTime() - t0) / 1e9);
        }
        carried.putAll(sum.hidden());
        return sum;
    }

    @Override
    public Evaluator.Loss validate(float[] weights) {
        return Evaluator.evaluate(spec, weights, valid, 0, valid.length, cfg.batchSize(), cfg.numSteps());
    }

    @Override
    public long trainingTokens() {
        return train.length;
    }
}
