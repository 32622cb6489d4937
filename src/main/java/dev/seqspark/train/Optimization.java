package dev.seqspark.train;

import dev.seqspark.optim.Optimizers;

/** What every task's shard trainer needs of its recipe: the batch size, the optimizer, clipping and the seed. */
public interface Optimization {
    /** Examples per minibatch: sequences of num_steps tokens, or records. */
    int batchSize();

    /** {@code sgd} or {@code adam}. */
    String optimizer();

    double lr();

    /** Max global gradient norm; 0 turns clipping off. */
    double clip();

    /** Every random choice (initial weights, layouts, batch order, dropout) derives from it. */
    long seed();

    /** The checks every recipe makes, with one-line messages. */
    static void check(int batchSize, String optimizer, double lr, double clip) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch_size must be positive, got " + batchSize);
        }
        Optimizers.create(optimizer, 1, lr);   // validates name and learning rate
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("clip must be a non-negative number (0 = off), got " + clip);
        }
    }
}
