package dev.seqspark.text;

import java.util.SplittableRandom;

/**
 * Minibatches of (batch × steps) token ids over a token stream, laid out exactly as d2l's
 * {@code seq_data_iter_sequential} and {@code seq_data_iter_random}. Batches are written time-major:
 * position (t, b) at index t·batch + b, as the model consumes them.
 *
 * <p>Sequential, offset o, N tokens: n = ((N − o − 1) / batch)·batch; X = stream[o : o+n] as {@code batch}
 * rows, Y = stream[o+1 : o+1+n]; batch i = columns [i·steps, (i+1)·steps), for i &lt; (n/batch)/steps.
 * <br>Random, offset o: subsequences of {@code steps} tokens start at o + k·steps for
 * k &lt; (N − o − 1)/steps, taken in a shuffled order, {@code batch} per minibatch (trailing ones dropped).
 */
public final class BatchLayout {
    private final int[] stream;
    private final int from;
    private final int length;
    private final int batch;
    private final int steps;
    private final Partitioning partitioning;
    private final int offset;
    private final int rowLength;       // sequential: tokens per row
    private final int[] starts;        // random: shuffled subsequence starts (relative to from)
    private final int numBatches;

    private BatchLayout(int[] stream, int from, int length, int batch, int steps, Partitioning p, int offset,
                        int[] starts) {
        if (batch <= 0 || steps <= 0) {
            throw new IllegalArgumentException("batch_size and num_steps must be positive, got " + batch + " and " + steps);
        }
        this.stream = stream;
        this.from = from;
        this.length = length;
        this.batch = batch;
        this.steps = steps;
        this.partitioning = p;
        this.offset = offset;
        if (p == Partitioning.SEQUENTIAL) {
            int n = Math.max(0, (length - offset - 1) / batch * batch);
            this.rowLength = n / batch;
            this.starts = null;
            this.numBatches = rowLength / steps;
        } else {
            this.rowLength = 0;
            this.starts = starts;
            this.numBatches = starts.length / batch;
        }
    }

    /** d2l's sequential layout over stream[from, from+length) at a fixed offset. */
    public static BatchLayout sequential(int[] stream, int from, int length, int batch, int steps, int offset) {
        checkRange(stream, from, length);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be non-negative, got " + offset);
        }
        return new BatchLayout(stream, from, length, batch, steps, Partitioning.SEQUENTIAL, offset, null);
    }

    /** d2l's random layout with a given offset and a given order of subsequence starts (for tests). */
    public static BatchLayout random(int[] stream, int from, int length, int batch, int steps, int offset,
                                     int[] shuffledStarts) {
        checkRange(stream, from, length);
        return new BatchLayout(stream, from, length, batch, steps, Partitioning.RANDOM, offset, shuffledStarts.clone());
    }

    /**
     * The layout of one epoch: for sequential, {@code fixedOffset} or (null) an offset drawn in [0, steps]
     * as d2l draws it; for random, an offset in [0, steps − 1] and a Fisher–Yates shuffle, all from {@code rng}.
     */
    public static BatchLayout of(Partitioning p, int[] stream, int from, int length, int batch, int steps,
                                 Integer fixedOffset, SplittableRandom rng) {
        int offset = drawOffset(p, steps, fixedOffset, rng);
        if (p == Partitioning.SEQUENTIAL) {
            return sequential(stream, from, length, batch, steps, offset);
        }
        int count = Math.max(0, (length - offset - 1) / steps);
        int[] starts = new int[count];
        for (int k = 0; k < count; k++) {
            starts[k] = offset + k * steps;
        }
        for (int i = count - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = starts[i];
            starts[i] = starts[j];
            starts[j] = tmp;
        }
        return random(stream, from, length, batch, steps, offset, starts);
    }

    /** The epoch's offset: fixed, or drawn as d2l draws it (sequential: [0, steps]; random: [0, steps − 1]). */
    public static int drawOffset(Partitioning p, int steps, Integer fixedOffset, SplittableRandom rng) {
        if (fixedOffset != null) {
            return fixedOffset;
        }
        return p == Partitioning.SEQUENTIAL ? rng.nextInt(steps + 1) : rng.nextInt(steps);
    }

    /** How many batches a layout over {@code length} tokens has at this offset. */
    public static int count(Partitioning p, long length, int batch, int steps, int offset) {
        long usable = length - offset - 1;
        if (usable <= 0) {
            return 0;
        }
        return (int) (p == Partitioning.SEQUENTIAL ? usable / batch / steps : usable / steps / batch);
    }

    private static void checkRange(int[] stream, int from, int length) {
        if (from < 0 || length < 0 || (long) from + length > stream.length) {
            throw new IllegalArgumentException("range [" + from + ", " + ((long) from + length)
                    + ") outside a stream of " + stream.length + " tokens");
        }
    }

    public int numBatches() {
        return numBatches;
    }

    public int batchSize() {
        return batch;
    }

    public int numSteps() {
        return steps;
    }

    public int offset() {
        return offset;
    }

    public Partitioning partitioning() {
        return partitioning;
    }

    /** Writes batch {@code i}'s inputs and targets, time-major ((steps · batch) ids each). */
    public void fill(int i, int[] x, int[] y) {
        if (i < 0 || i >= numBatches) {
            throw new IndexOutOfBoundsException("batch " + i + " of " + numBatches);
        }
        for (int b = 0; b < batch; b++) {
            int start = partitioning == Partitioning.SEQUENTIAL
                    ? from + offset + b * rowLength + i * steps
                    : from + starts[i * batch + b];
            for (int t = 0; t < steps; t++) {
                x[t * batch + b] = stream[start + t];
                y[t * batch + b] = stream[start + t + 1];
            }
        }
    }
}
