package dev.seqspark.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = op(A)·B + β·C (β 0 or 1; every matrix row-major; op(A) = A or Aᵀ) with the Vector API, in 512-bit
 * registers: the recurrent multiplies of every time step (batch × H by H × G·H, and back), the weight gradients
 * summed over the sequence, and the head's backward. BLAS libraries are tuned for large square-ish matrices; at
 * these shapes they spend much of their time packing B, which this kernel does not do: B's rows are read as they
 * lie, 8 rows of C × 32 columns stay in 16 of AVX-512's 32 registers for the whole sum over k, and A's entries are
 * broadcast from memory. Measured on a 2-vCPU AMD EPYC (Zen 5), 1 thread, (32×256)·(256×768): 190 GFLOP/s, against
 * 75 for OpenBLAS 0.3.31's Haswell kernels and 119 for its Cooperlake (AVX-512) ones.
 *
 * <p>Every element of C is one chain of fused multiply-adds over p = 0 … k−1 in order, starting from C (β = 1)
 * or 0, in the register tiles and the scalar edges alike ({@link Math#fma}); so the result does not depend on how
 * the matrix is cut into tiles. It differs from a BLAS library's in the last bits, as BLAS kernels for different
 * CPUs differ from each other.
 */
final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final int L = 16;
    private static final int MR = 8;        // rows of C per register tile
    private static final int NR = 2 * L;    // columns of C per register tile
    static final int KB = 256;   // terms of the sum over k per pass with Aᵀ

    private VectorGemm() {}

    /** True when this JVM's preferred species is 512 bits: the tile needs 16 + 3 vector registers. */
    static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    }

    /**
     * The shapes this kernel takes. Without Aᵀ every row tile streams the k × 32 panel of B it multiplies, so that
     * panel must stay in the core's L2 cache (k ≤ 2,048: 256 KB); a larger k (a large vocabulary's head) is left to
     * BLAS. With Aᵀ (the weight gradients, k = the rows of a batch) the sum runs in blocks of {@link #KB} terms.
     */
    static boolean suits(boolean transA, int m, int n, int k) {
        return n >= L && (transA || k <= 2048);
    }

    /**
     * C (m×n, rows {@code ldc} apart) = op(A)·B + β·C, op(A) m×k: A (m×k, rows {@code lda} apart) or, with
     * {@code transA}, Aᵀ for A stored k×m; B is k×n (rows {@code ldb} apart).
     */
    static void gemm(boolean transA, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     boolean accumulate, float[] c, int cOff, int ldc) {
        if (k == 0) {   // an empty sum
            for (int i = 0; !accumulate && i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            return;
        }
        if (!transA) {
            block(m, n, k, a, aOff, lda, 1, b, bOff, ldb, accumulate, c, cOff, ldc, null);
            return;
        }
        // Aᵀ: the sum over k in blocks of KB terms, in order, C stored between them (exactly: each chain goes on where
        // it stopped); in each block the full tiles' columns of A are first copied into 8-wide rows, so that a tile
        // reads A in one stream instead of one cache line per term, and the copy stays in L2 for every panel of B.
        int tiles = m / MR;
        float[] packed = PACKED.get();
        if (packed.length < tiles * MR * Math.min(k, KB)) {
            packed = new float[tiles * MR * Math.min(k, KB)];
            PACKED.set(packed);
        }
        for (int p0 = 0; p0 < k; p0 += KB) {
            int kb = Math.min(KB, k - p0);
            for (int t = 0; t < tiles; t++) {
                for (int p = 0, src = aOff + p0 * lda + t * MR, dst = t * MR * kb; p < kb; p++, src += lda, dst += MR) {
                    System.arraycopy(a, src, packed, dst, MR);
                }
            }
            block(m, n, kb, a, aOff + p0 * lda, 1, lda, b, bOff + p0 * ldb, ldb, accumulate || p0 > 0, c, cOff, ldc,
                    packed);
        }
    }

    private static final ThreadLocal<float[]> PACKED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * One pass over k terms, op(A)[i][p] = a[aOff + i·rowStep + p·colStep]; with {@code packed}, the full row
     * tiles read A from there instead (8 values per term), the rows past them from {@code a}.
     */
    private static void block(int m, int n, int k, float[] a, int aOff, int rowStep, int colStep, float[] b, int bOff,
                              int ldb, boolean accumulate, float[] c, int cOff, int ldc, float[] packed) {
        int j = 0;
        for (; j + NR <= n; j += NR) {
            int i = 0;
            for (; i + MR <= m; i += MR) {
                if (packed != null) {
                    tile8x2(k, packed, i * k, 1, MR, b, bOff + j, ldb, accumulate, c, cOff + i * ldc + j, ldc);
                } else {
                    tile8x2(k, a, aOff + i * rowStep, rowStep, colStep, b, bOff + j, ldb, accumulate, c,
                            cOff + i * ldc + j, ldc);
                }
            }
            for (; i < m; i++) {
                row2(k, a, aOff + i * rowStep, colStep, b, bOff + j, ldb, accumulate, c, cOff + i * ldc + j);
            }
        }
        for (; j + L <= n; j += L) {
            for (int i = 0; i < m; i++) {
                row1(k, a, aOff + i * rowStep, colStep, b, bOff + j, ldb, accumulate, c, cOff + i * ldc + j);
            }
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc + j;
                float s = accumulate ? c[ci] : 0f;
                for (int p = 0, ap = aOff + i * rowStep, bp = bOff + j; p < k; p++, ap += colStep, bp += ldb) {
                    s = Math.fma(a[ap], b[bp], s);
                }
                c[ci] = s;
            }
        }
    }

    private static FloatVector start(boolean accumulate, float[] c, int at) {
        return accumulate ? FloatVector.fromArray(S, c, at) : FloatVector.zero(S);
    }

    /** 8 rows × 32 columns of C: the sum over k in 16 registers. */
    private static void tile8x2(int k, float[] a, int ap, int rs, int cs, float[] b, int bp, int ldb,
                                boolean acc, float[] c, int cp, int ldc) {
        FloatVector c00 = start(acc, c, cp), c01 = start(acc, c, cp + L);
        FloatVector c10 = start(acc, c, cp + ldc), c11 = start(acc, c, cp + ldc + L);
        FloatVector c20 = start(acc, c, cp + 2 * ldc), c21 = start(acc, c, cp + 2 * ldc + L);
        FloatVector c30 = start(acc, c, cp + 3 * ldc), c31 = start(acc, c, cp + 3 * ldc + L);
        FloatVector c40 = start(acc, c, cp + 4 * ldc), c41 = start(acc, c, cp + 4 * ldc + L);
        FloatVector c50 = start(acc, c, cp + 5 * ldc), c51 = start(acc, c, cp + 5 * ldc + L);
        FloatVector c60 = start(acc, c, cp + 6 * ldc), c61 = start(acc, c, cp + 6 * ldc + L);
        FloatVector c70 = start(acc, c, cp + 7 * ldc), c71 = start(acc, c, cp + 7 * ldc + L);
        for (int p = 0; p < k; p++, ap += cs, bp += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + rs]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2 * rs]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3 * rs]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ap + 4 * rs]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ap + 5 * rs]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ap + 6 * rs]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ap + 7 * rs]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, cp);
        c01.intoArray(c, cp + L);
        c10.intoArray(c, cp + ldc);
        c11.intoArray(c, cp + ldc + L);
        c20.intoArray(c, cp + 2 * ldc);
        c21.intoArray(c, cp + 2 * ldc + L);
        c30.intoArray(c, cp + 3 * ldc);
        c31.intoArray(c, cp + 3 * ldc + L);
        c40.intoArray(c, cp + 4 * ldc);
        c41.intoArray(c, cp + 4 * ldc + L);
        c50.intoArray(c, cp + 5 * ldc);
        c51.intoArray(c, cp + 5 * ldc + L);
        c60.intoArray(c, cp + 6 * ldc);
        c61.intoArray(c, cp + 6 * ldc + L);
        c70.intoArray(c, cp + 7 * ldc);
        c71.intoArray(c, cp + 7 * ldc + L);
    }

    /** One row × 32 columns (the rows below the last full tile). */
    private static void row2(int k, float[] a, int ap, int cs, float[] b, int bp, int ldb, boolean acc, float[] c, int cp) {
        FloatVector c0 = start(acc, c, cp), c1 = start(acc, c, cp + L);
        for (int p = 0; p < k; p++, ap += cs, bp += ldb) {
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c0 = x.fma(FloatVector.fromArray(S, b, bp), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bp + L), c1);
        }
        c0.intoArray(c, cp);
        c1.intoArray(c, cp + L);
    }

    /** One row × 16 columns (the columns past the last multiple of 32). */
    private static void row1(int k, float[] a, int ap, int cs, float[] b, int bp, int ldb, boolean acc, float[] c, int cp) {
        FloatVector c0 = start(acc, c, cp);
        for (int p = 0; p < k; p++, ap += cs, bp += ldb) {
            c0 = FloatVector.broadcast(S, a[ap]).fma(FloatVector.fromArray(S, b, bp), c0);
        }
        c0.intoArray(c, cp);
    }
}
