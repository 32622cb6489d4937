package dev.seqspark.train;

import dev.seqspark.optim.Optimizers;
import dev.seqspark.text.Partitioning;

/**
 * How a shard is trained (d2l's train_ch8 recipe).
 * <ul>
 *   <li>{@code batchSize} × {@code numSteps}: sequences per minibatch × time steps of truncated BPTT.</li>
 *   <li>{@code partitioning}, {@code offset}: the batch layout (null offset: drawn per epoch from the seed).</li>
 *   <li>{@code optimizer} ({@code sgd}|{@code adam}), {@code lr}, {@code clip} (max global gradient norm;
 *       0 turns clipping off), {@code seed} (every random choice derives from it).</li>
 * </ul>
 */
public record TrainConfig(int batchSize, int numSteps, Partitioning partitioning, Integer offset, String optimizer,
                          double lr, double clip, long seed) implements java.io.Serializable {

    public TrainConfig {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch_size must be positive, got " + batchSize);
        }
        if (numSteps <= 0) {
            throw new IllegalArgumentException("num_steps must be positive, got " + numSteps);
        }
        if (partitioning == null) {
            throw new IllegalArgumentException("partitioning must be sequential or random");
        }
        if (offset != null && offset < 0) {
            throw new IllegalArgumentException("offset must be 'random' or a non-negative integer, got " + offset);
        }
        Optimizers.create(optimizer, 1, lr);   // validates name and learning rate
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("clip must be a non-negative number (0 = off), got " + clip);
        }
    }

    /** d2l's defaults for the char LM: batch 32, 35 steps, sequential, SGD lr 1, clip 1. */
    public static TrainConfig d2l(long seed) {
        return new TrainConfig(32, 35, Partitioning.SEQUENTIAL, null, "sgd", 1.0, 1.0, seed);
    }
}
