package dev.seqspark.train;

import dev.seqspark.text.Partitioning;

/**
 * How a language model's shard is trained (d2l's train_ch8 recipe).
 * <ul>
 *   <li>{@code batchSize} × {@code numSteps}: sequences per minibatch × time steps of truncated BPTT.</li>
 *   <li>{@code partitioning}, {@code offset}: the batch layout (null offset: drawn per epoch from the seed).</li>
 *   <li>{@code optimizer} ({@code sgd}|{@code adam}), {@code lr}, {@code clip} (max global gradient norm;
 *       0 turns clipping off), {@code seed} (every random choice derives from it).</li>
 * </ul>
 */
public record TrainConfig(int batchSize, int numSteps, Partitioning partitioning, Integer offset, String optimizer,
                          double lr, double clip, long seed) implements Optimization, java.io.Serializable {

    public TrainConfig {
        if (numSteps <= 0) {
            throw new IllegalArgumentException("num_steps must be positive, got " + numSteps);
        }
        if (partitioning == null) {
            throw new IllegalArgumentException("partitioning must be sequential or random");
        }
        if (offset != null && offset < 0) {
            throw new IllegalArgumentException("offset must be 'random' or a non-negative integer, got " + offset);
        }
        Optimization.check(batchSize, optimizer, lr, clip);
    }
}
