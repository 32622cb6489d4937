package dev.seqspark.train;

import java.io.Serializable;

/**
 * What a shard keeps from one round to the next within an epoch, on its worker: its optimizer's state (momentum,
 * Adam's moments) and step count, what it carries (a language model's hidden state; null: nothing), the batches
 * it trained in the epoch, and how far its last round moved its weights ({@code progress}: what a late round starts
 * from, see {@link ShardTrainer#round}; null before its first round, and when rounds do not overlap). Only the weights travel each round; the optimizer
 * states are averaged once, at the epoch's end.
 */
public record ShardState(int shard, float[] optimizerState, long optimizerSteps, Serializable carried, long batches,
                         float[] progress) implements Serializable {

    /** A shard at the start of an epoch: the global optimizer state, nothing carried, no batch yet. */
    public static ShardState start(int shard, float[] optimizerState, long optimizerSteps) {
        return new ShardState(shard, optimizerState, optimizerSteps, null, 0, null);
    }

    /** The weights a round starts from, with this shard's optimizer state. */
    public ModelState from(float[] weights) {
        return new ModelState(weights, optimizerState, optimizerSteps);
    }

    /** This shard after a round that gave {@code r} and moved its weights by {@code moved}; a round without a batch
     *  changes nothing. */
    public ShardState after(ShardTrainer.Result r, float[] moved) {
        return r.batches() == 0 ? this : new ShardState(shard, r.state().optimizerState(), r.state().optimizerSteps(),
                r.carried(), batches + r.batches(), moved);
    }

    /** What the epoch's end needs of it: no carried state, no progress. */
    public ShardState forAveraging() {
        return new ShardState(shard, optimizerState, optimizerSteps, null, batches, null);
    }
}
