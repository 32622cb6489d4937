package dev.seqspark.nn;

/** Row-major matrix layout helpers of the recurrent layer: transposes, batch/time swaps, checked sizes. */
final class Matrices {
    private Matrices() {}

    /** {@code buf} when it holds at least {@code size} floats, else a new array. */
    static float[] grow(float[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new float[size];
    }

    /** An array length, refusing what does not fit in one Java array rather than overflowing. */
    static int checkedSize(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a buffer of " + n + " floats does not fit in one array: "
                    + "use fewer steps or rows per batch");
        }
        return (int) n;
    }

    /**
     * out (cols, rows) = transpose of the (rows, cols) matrix at {@code off}; reuses {@code out} if big enough.
     * In 32×32 tiles, so that both sides stay in cache.
     */
    static float[] transpose(float[] src, int off, int rows, int cols, float[] out) {
        float[] dst = grow(out, rows * cols);
        final int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                // Writes run along dst's rows: writing down its columns instead (rows floats apart, often a
                // multiple of 4 KB) made every store of a tile hit one cache set, 13x slower at 1024×256.
                for (int c = c0; c < c1; c++) {
                    int d = c * rows;
                    for (int r = r0; r < r1; r++) {
                        dst[d + r] = src[off + r * cols + c];
                    }
                }
            }
        }
        return dst;
    }

    /** (n1, n2, width) → (n2, n1, width): between batch-first and time-major layouts. */
    static void swapBatchTime(float[] src, float[] dst, int n1, int n2, int width) {
        for (int i = 0; i < n1; i++) {
            for (int j = 0; j < n2; j++) {
                System.arraycopy(src, (i * n2 + j) * width, dst, (j * n1 + i) * width, width);
            }
        }
    }
}
