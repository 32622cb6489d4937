package dev.seqspark.train;

import dev.seqspark.nn.ModelSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.optim.Optimizer;
import dev.seqspark.optim.Optimizers;
import dev.seqspark.text.BatchLayout;
import dev.seqspark.text.Partitioning;
import java.util.SplittableRandom;
import java.util.function.DoubleConsumer;

/**
 * The engine every worker runs: trains a language model over minibatches of one token stream (a shard),
 * all of an epoch's batches or K at a time, resuming where the last call stopped. Per batch: forward,
 * mean cross-entropy, backward through time, clipping by global norm, optimizer step; the hidden state is
 * carried (values only) from batch to batch in sequential partitioning and starts at zero for every batch
 * in random partitioning. Not thread-safe: one per task.
 */
public final class ShardTrainer {

    /** What one call returns: the new state, the carried hidden state, and what the batches measured. */
    public record Result(ModelState state, HiddenState hidden, double lossSum, long tokens, int batches,
                         int nextBatch, boolean finite) implements java.io.Serializable {}

    private final ModelSpec spec;
    private final TrainConfig cfg;
    private final Params params;
    private final LanguageModel lm;
    private final Optimizer optimizer;
    private final int[] x;
    private final int[] y;

    public ShardTrainer(ModelSpec spec, TrainConfig cfg) {
        this.spec = spec;
        this.cfg = cfg;
        this.params = new Params(spec.layout());
        this.lm = new LanguageModel(spec, params);
        this.optimizer = Optimizers.create(cfg.optimizer(), params.values.length, cfg.lr());
        this.x = new int[cfg.batchSize() * cfg.numSteps()];
        this.y = new int[cfg.batchSize() * cfg.numSteps()];
    }

    /** A fresh state: PyTorch-style initial weights from {@code seed} and an empty optimizer state. */
    public static ModelState initialState(ModelSpec spec, TrainConfig cfg, long seed) {
        Params p = spec.initParams(seed);
        return new ModelState(p.values, new float[Optimizers.stateSize(cfg.optimizer(), p.values.length)], 0);
    }

    /** Batches in shard {@code shard}'s layout for epoch {@code epoch}, from its length alone (as {@link #layout}). */
    public static int numBatches(TrainConfig cfg, long length, int epoch, int shard) {
        int offset = BatchLayout.drawOffset(cfg.partitioning(), cfg.numSteps(), cfg.offset(),
                new SplittableRandom(Seeds.derive(cfg.seed(), 1, epoch, shard)));
        return BatchLayout.count(cfg.partitioning(), length, cfg.batchSize(), cfg.numSteps(), offset);
    }

    /** Tokens a shard needs so that every epoch's layout has at least one batch, whatever the offset. */
    public static long minShardTokens(TrainConfig cfg) {
        return (long) cfg.batchSize() * cfg.numSteps() + cfg.numSteps() + 1;
    }

    /** The batch layout of shard {@code shard} in epoch {@code epoch}: random choices derive from (seed, epoch, shard). */
    public BatchLayout layout(int[] stream, int from, int length, int epoch, int shard) {
        SplittableRandom rng = new SplittableRandom(Seeds.derive(cfg.seed(), 1, epoch, shard));
        return BatchLayout.of(cfg.partitioning(), stream, from, length, cfg.batchSize(), cfg.numSteps(),
                cfg.offset(), rng);
    }

    /**
     * Trains batches [fromBatch, fromBatch + maxBatches) of {@code layout} (or to its end) from {@code start}
     * and {@code carried} (null: zeros). Dropout masks derive from (seed, epoch, shard, batch). Stops early,
     * with {@code finite == false}, at the first batch whose loss is not a finite number.
     */
    public Result train(ModelState start, HiddenState carried, BatchLayout layout, int fromBatch, int maxBatches,
                        int epoch, int shard, DoubleConsumer batchLoss) {
        params.setValues(start.weights());
        optimizer.restore(start.optimizerState(), start.optimizerSteps());
        LanguageModel.State state = new LanguageModel.State(spec, cfg.batchSize());
        if (carried != null && cfg.partitioning() == Partitioning.SEQUENTIAL) {
            System.arraycopy(carried.h(), 0, state.h, 0, state.h.length);
            if (state.c != null) {
                System.arraycopy(carried.c(), 0, state.c, 0, state.c.length);
            }
        }
        int steps = cfg.numSteps();
        int batch = cfg.batchSize();
        int end = maxBatches <= 0 ? layout.numBatches() : Math.min(layout.numBatches(), fromBatch + maxBatches);
        double lossSum = 0;
        long tokens = 0;
        int done = 0;
        boolean finite = true;
        boolean dropout = spec.dropout() > 0;
        for (int i = fromBatch; i < end; i++) {
            layout.fill(i, x, y);
            if (cfg.partitioning() == Partitioning.RANDOM) {
                state.reset();
            }
            SplittableRandom drop = dropout ? new SplittableRandom(Seeds.derive(cfg.seed(), 2, epoch, shard, i)) : null;
            double loss = lm.forwardBackward(x, y, steps, batch, null, state, drop);
            if (!Double.isFinite(loss)) {
                finite = false;
                break;
            }
            optimizer.clipAndStep(params.values, params.grads, cfg.clip());
            lossSum += loss * x.length;
            tokens += x.length;
            done++;
            if (batchLoss != null) {
                batchLoss.accept(loss);
            }
        }
        ModelState out = new ModelState(params.values.clone(), optimizer.state().clone(), optimizer.steps());
        HiddenState hidden = new HiddenState(state.h.clone(), state.c == null ? null : state.c.clone());
        return new Result(out, hidden, lossSum, tokens, done, fromBatch + done, finite);
    }
}
