package dev.seqspark.train;

import java.util.List;

/**
 * {@link Workers} in this JVM, one shard after another on one trainer: for tests, and the reference the
 * distributed run must equal.
 */
public final class LocalWorkers<S extends Shard> implements Workers {
    private final Task<S> task;
    private final List<S> shards;
    private final long[] sizes;
    private final ShardTrainer<S> trainer;
    private final ShardState[] local;
    private int epoch;

    /** Shard k is {@code shards.get(k)}, of {@code sizes[k]} tokens or records (what {@link Task#batches} reads). */
    public LocalWorkers(Task<S> task, List<S> shards, long[] sizes) {
        if (shards.isEmpty() || sizes.length != shards.size()) {
            throw new IllegalArgumentException("need at least one worker, and a size for each");
        }
        this.task = task;
        this.shards = List.copyOf(shards);
        this.sizes = sizes.clone();
        this.trainer = new ShardTrainer<>(task);
        this.local = new ShardState[shards.size()];
    }

    /** A language model's workers: {@code train} cut into W contiguous shards, {@code valid} (may be empty) by rows. */
    public static LocalWorkers<TokenShard> of(LanguageModelTask task, int[] train, int[] valid, int workers) {
        List<TokenShard> shards = TokenShard.split(train, valid, workers, task.validDims());
        return new LocalWorkers<>(task, shards, shards.stream().mapToLong(s -> s.train().length).toArray());
    }

    /** A classifier's workers: shard k trains {@code shards.get(k)}. */
    public static LocalWorkers<RecordShard> of(ClassifierTask task, List<RecordShard> shards) {
        return new LocalWorkers<>(task, shards, shards.stream().mapToLong(s -> s.train().size()).toArray());
    }

    @Override
    public int count() {
        return shards.size();
    }

    @Override
    public int slots() {
        return 1;   // one after another
    }

    @Override
    public int[] batchesPerShard(int epoch) {
        int[] out = new int[shards.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = task.batches(sizes[k], epoch, k);
        }
        return out;
    }

    @Override
    public void beginEpoch(int epoch, ModelState global) {
        this.epoch = epoch;
        for (int k = 0; k < local.length; k++) {
            local[k] = ShardState.start(k, global.optimizerState(), global.optimizerSteps());
        }
    }

    /** Runs the round at once: a later round can only start after it, as on Spark. */
    @Override
    public Pending start(float[] base, boolean late, boolean keepMove, int fromBatch, int maxBatches) {
        RoundSum sum = new RoundSum(shards.size());
        for (S shard : shards) {
            int k = shard.index();
            long t0 = System.nanoTime();
            ShardTrainer.Round r = trainer.round(local[k], base, late, keepMove, shard, epoch, fromBatch,
                    maxBatches);
            local[k] = r.kept();
            sum.add(k, r.reported(), (System.nanoTime() - t0) / 1e9);
        }
        return () -> sum;
    }

    @Override
    public ModelState endEpoch(ModelState global) {
        OptimizerSum sum = new OptimizerSum();
        for (ShardState s : local) {
            sum.add(s);
        }
        return sum.average(global);
    }

    @Override
    public Validation validate(float[] weights) {
        return task.validate(weights, shards);
    }
}
