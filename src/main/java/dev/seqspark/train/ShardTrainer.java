package dev.seqspark.train;

import dev.seqspark.nn.Params;
import dev.seqspark.optim.Optimizer;
import dev.seqspark.optim.Optimizers;
import java.io.Serializable;
import java.util.SplittableRandom;
import java.util.function.DoubleConsumer;

/**
 * The engine every worker runs, for either task: trains one shard's minibatches, all of an epoch's or K at a time,
 * resuming where the last call stopped. Per batch: the task's forward and backward ({@link Task.Steps}), clipping
 * by global norm, the optimizer's step. Dropout masks derive from (seed, epoch, shard, batch), so a batch trains
 * the same wherever and whenever it runs. Not thread-safe: one per task.
 */
public final class ShardTrainer<S extends Shard> {

    /**
     * What one call returns: the new state, what the shard carries into its next round, and what the batches
     * measured ({@code examples}: predicted tokens or records).
     */
    public record Result(ModelState state, Serializable carried, double lossSum, long examples, long tokens, int batches,
                         int nextBatch, boolean finite) implements Serializable {}

    private final Task<S> task;
    private final Params params;
    private final Optimizer optimizer;
    private final Task.Steps<S> steps;

    public ShardTrainer(Task<S> task) {
        this.task = task;
        this.params = new Params(task.spec().layout());
        this.optimizer = Optimizers.create(task.optimization().optimizer(), params.values.length, task.optimization().lr());
        this.steps = task.steps(params);
    }

    /** A fresh state: PyTorch-style initial weights from the seed and an empty optimizer state. */
    public static ModelState initialState(Task<?> task) {
        return startingFrom(task, task.spec().initParams(task.optimization().seed()).values);
    }

    /** {@code weights} (fine-tuning) with a fresh optimizer state. */
    public static ModelState startingFrom(Task<?> task, float[] weights) {
        return new ModelState(weights, new float[Optimizers.stateSize(task.optimization().optimizer(), weights.length)], 0);
    }

    /**
     * Trains batches [fromBatch, fromBatch + maxBatches) of {@code shard}'s epoch (maxBatches ≤ 0: to its end) from
     * {@code start} and {@code carried} (null: from scratch). Stops early, with {@code finite == false}, at the first
     * batch whose loss is not a finite number. {@code batchLoss}, when given, hears every batch's loss.
     */
    public Result train(ModelState start, Serializable carried, S shard, int epoch, int fromBatch, int maxBatches,
                        DoubleConsumer batchLoss) {
        params.setValues(start.weights());
        optimizer.restore(start.optimizerState(), start.optimizerSteps());
        int count = steps.begin(shard, epoch, carried);
        int end = maxBatches <= 0 ? count : Math.min(count, fromBatch + maxBatches);
        Optimization o = task.optimization();
        boolean dropout = task.spec().hasDropout();
        double lossSum = 0;
        long examples = 0;
        long tokens = 0;
        int done = 0;
        boolean finite = true;
        for (int i = fromBatch; i < end; i++) {
            SplittableRandom drop = dropout ? new SplittableRandom(Seeds.derive(o.seed(), 2, epoch, shard.index(), i)) : null;
            double loss = steps.step(i, drop);
            if (!Double.isFinite(loss)) {
                finite = false;
                break;
            }
            optimizer.clipAndStep(params.values, params.grads, o.clip());
            lossSum += loss * steps.examples();
            examples += steps.examples();
            tokens += steps.tokens();
            done++;
            if (batchLoss != null) {
                batchLoss.accept(loss);
            }
        }
        ModelState out = new ModelState(params.values.clone(), optimizer.state().clone(), optimizer.steps());
        return new Result(out, steps.carried(), lossSum, examples, tokens, done, fromBatch + done, finite);
    }

    /** A shard's round: what it reports to the driver and what it keeps. */
    public record Round(Result reported, ShardState kept) {}

    /**
     * One round of a shard, from what it {@code kept} of the epoch's earlier rounds. A round on time starts from
     * {@code base} and reports where it ended. A <em>late</em> round is one the driver started before it had combined
     * the round before, so {@code base} is a round old (the start the driver made of the round before that): the
     * shard goes on from it plus its own move in its last round, the move the driver has not combined yet, and
     * reports {@code base} plus this round's move, which is what the driver combines ({@link
     * OuterUpdate#update(ModelState, RoundSum, float[])}). An epoch's first round is on time. The shard keeps its
     * move only when {@code keepMove} (the next round may be late): one weights-sized array less otherwise.
     */
    public Round round(ShardState kept, float[] base, boolean late, boolean keepMove, S shard, int epoch, int fromBatch,
                       int maxBatches) {
        float[] own = late ? kept.progress() : null;
        float[] start = base;
        if (own != null) {
            start = new float[base.length];
            for (int i = 0; i < start.length; i++) {
                start[i] = base[i] + own[i];
            }
        }
        Result r = train(kept.from(start), kept.carried(), shard, epoch, fromBatch, maxBatches, null);
        if (r.batches() == 0) {
            return new Round(r, kept);
        }
        float[] end = r.state().weights();
        float[] moved = null;
        if (keepMove || own != null) {
            moved = new float[end.length];
            for (int i = 0; i < end.length; i++) {
                moved[i] = end[i] - start[i];
            }
        }
        Result reported = r;
        if (own != null) {   // the move from base alone: what the driver combines, as if every shard started there
            float[] w = new float[end.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = base[i] + moved[i];
            }
            reported = new Result(new ModelState(w, r.state().optimizerState(), r.state().optimizerSteps()), r.carried(),
                    r.lossSum(), r.examples(), r.tokens(), r.batches(), r.nextBatch(), r.finite());
        }
        return new Round(reported, kept.after(r, keepMove ? moved : null));
    }
}
