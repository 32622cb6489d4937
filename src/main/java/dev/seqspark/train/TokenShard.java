package dev.seqspark.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A language model's shard: its contiguous range of the training stream, and its block of rows of the validation
 * layout ({@code validRows} rows; row r reads valid[r·rowLength …]).
 */
public record TokenShard(int index, int[] train, int[] valid, int validRows) implements Shard {

    /** Shard k of W holds tokens [⌊k·N/W⌋, ⌊(k+1)·N/W⌋) of a stream of N. */
    public static long bound(long n, int k, int w) {
        return k * n / w;
    }

    /**
     * The rows of the validation layout that shard k of W evaluates — rows are independent, so workers take blocks
     * of them — as {start, end, rows}: the stream range they read, relative to the validation stream's start.
     */
    public static long[] validSlice(Evaluator.Dims dims, int k, int w) {
        int r0 = (int) ((long) k * dims.rows() / w);
        int r1 = (int) ((long) (k + 1) * dims.rows() / w);
        long s = dims.sliceStart(r0);
        return new long[] {s, s + dims.sliceLength(r0, r1), r1 - r0};
    }

    /** W shards of {@code train} and {@code valid} in this JVM, cut as the distributed corpus cuts them. */
    public static List<TokenShard> split(int[] train, int[] valid, int w, Evaluator.Dims validDims) {
        if (w <= 0) {
            throw new IllegalArgumentException("need at least one worker, got " + w);
        }
        List<TokenShard> out = new ArrayList<>();
        for (int k = 0; k < w; k++) {
            long[] vs = validSlice(validDims, k, w);
            out.add(new TokenShard(k, Arrays.copyOfRange(train, (int) bound(train.length, k, w),
                    (int) bound(train.length, k + 1, w)), Arrays.copyOfRange(valid, (int) vs[0], (int) vs[1]), (int) vs[2]));
        }
        return out;
    }

    /** Tokens a shard needs so that every epoch's layout has at least one batch, whatever the offset. */
    public static long minTokens(TrainConfig cfg) {
        return (long) cfg.batchSize() * cfg.numSteps() + cfg.numSteps() + 1;
    }
}
