package dev.seqspark.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = op(A)·op(B) + β·C (β 0 or 1; every matrix row-major; op(X) = X or Xᵀ, not both transposed) with the Vector
 * API, in 512-bit registers: the recurrent multiplies of every time step (batch × H by H × G·H, and back), the
 * input multiply of the upper layers over the whole sequence, the weight gradients summed over it, and the head.
 * BLAS libraries are tuned for large square-ish matrices; at these shapes they spend much of their time packing B,
 * which this kernel does only where it must (Bᵀ, and the last panel when 32 does not divide n): B's rows are read
 * as they lie, 8 rows of C × 32 columns stay in 16 of AVX-512's 32 registers for the whole sum over k, and A's
 * entries are broadcast from memory. Measured on a 2-vCPU AMD EPYC (Zen 5), 1 thread, (32×256)·(256×768):
 * 190 GFLOP/s, against 75 for OpenBLAS 0.3.31's Haswell kernels and 119 for its Cooperlake (AVX-512) ones.
 *
 * <p>Every element of C is one chain of fused multiply-adds over p = 0 … k−1 in order, starting from C (β = 1)
 * or 0, whichever tile computes it; so the result depends neither on how the matrix is cut into tiles nor on the
 * CPU (where it has no 512-bit registers, the Vector API emulates them, lane by lane, with the same bits). It differs
 * from a BLAS library's in the last bits, as BLAS kernels for different CPUs differ from each other.
 */
final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final int L = 16;
    private static final int MR = 8;        // rows of C per register tile
    private static final int NR = 2 * L;    // columns of C per register tile
    static final int KB = 256;   // terms of the sum over k per pass with Aᵀ
    private static final int MB = 256;   // rows of C per chunk with Aᵀ (a multiple of MR)
    private static final int PACK_ROWS = 64;   // from this many rows of C, B is read from copies of its panels

    private VectorGemm() {}

    /**
     * True when this JVM's preferred species is 512 bits: the tile runs in 16 + 3 vector registers. Elsewhere the
     * Vector API emulates {@link #S}: the same bits, far slower.
     */
    static boolean usable() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
    }

    /**
     * The shapes this kernel takes. Without Aᵀ every row tile streams the k × 32 panel of B it multiplies, so that
     * panel must stay in the core's L2 cache (k ≤ 2,048: 256 KB); a larger k (a large vocabulary's head) is left to
     * BLAS. With Aᵀ (the weight gradients, k = the rows of a batch) the sum runs in blocks of {@link #KB} terms.
     * Aᵀ·Bᵀ occurs nowhere here and is left to BLAS.
     */
    static boolean suits(boolean transA, boolean transB, int m, int n, int k) {
        return n >= L && !(transA && transB) && (transA || k <= 2048);
    }

    /**
     * C (m×n, rows {@code ldc} apart) = op(A)·op(B) + β·C, op(A) m×k: A (m×k, rows {@code lda} apart) or, with
     * {@code transA}, Aᵀ for A stored k×m; op(B) k×n: B (k×n, rows {@code ldb} apart) or, with {@code transB}, Bᵀ
     * for B stored n×k. Not both transposed.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, float[] b,
                     int bOff, int ldb, boolean accumulate, float[] c, int cOff, int ldc) {
        if (k == 0) {   // an empty sum
            for (int i = 0; !accumulate && i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            return;
        }
        Scratch s = SCRATCH.get();
        if (!transA) {
            block(s, m, n, k, a, aOff, lda, 1, false, transB, b, bOff, ldb, accumulate, c, cOff, ldc);
            return;
        }
        // Aᵀ: C in chunks of MB rows, and for each the sum over k in blocks of KB terms, in order, C stored between
        // them (exactly: each chain goes on where it stopped). In each block the full tiles' columns of A are first
        // copied into 8-wide rows, so that a tile reads A in one stream instead of one cache line per term; the
        // copy (MB × KB), the chunk of C (MB × n) and the block of B (KB × n) stay in L2 together.
        float[] packed = s.a = Matrices.grow(s.a, MB * Math.min(k, KB));
        for (int i0 = 0; i0 < m; i0 += MB) {
            int mc = Math.min(MB, m - i0);
            int tiles = mc / MR;
            for (int p0 = 0; p0 < k; p0 += KB) {
                int kb = Math.min(KB, k - p0);
                for (int t = 0; t < tiles; t++) {
                    for (int p = 0, src = aOff + p0 * lda + i0 + t * MR, dst = t * MR * kb; p < kb;
                         p++, src += lda, dst += MR) {
                        System.arraycopy(a, src, packed, dst, MR);
                    }
                }
                block(s, mc, n, kb, a, aOff + p0 * lda + i0, 1, lda, true, false, b, bOff + p0 * ldb, ldb,
                        accumulate || p0 > 0, c, cOff + i0 * ldc, ldc);
            }
        }
    }

    /**
     * Per-thread copies: A's full row tiles with Aᵀ, A's last rows past them, one k × 32 panel of B, one 8 × 32
     * tile of C at an edge.
     */
    private static final class Scratch {
        float[] a;
        float[] rows;
        float[] panel;
        final float[] edge = new float[MR * NR];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * One pass over k terms, op(A)[i][p] = a[aOff + i·rowStep + p·colStep]; with {@code packedA}, the full row
     * tiles read A from the scratch copy instead (8 values per term). The rows past the last full tile (fewer than
     * 8) are copied the same way, zero below m, and go through an 8 × 32 copy of C, as do the tiles of the last
     * panel of B when 32 does not divide n: so every tile is a full one (a 1-row tile reads B once per two
     * fused multiply-adds, an 8-row one once per sixteen) and nothing past row m or column n is written. B is read
     * in panels of 32 columns, each copied into a contiguous k × 32 panel (zero past n) where it must be (Bᵀ, the
     * last panel) or where the copy pays: from PACK_ROWS rows of C on, the panel is read by so many row tiles that
     * reading it from 128-byte rows a power of two apart (which share a few cache sets and evict each other) costs
     * more than one copy: 1120×256×1024 runs at 210 GFLOP/s instead of 160.
     */
    private static void block(Scratch s, int m, int n, int k, float[] a, int aOff, int rowStep, int colStep,
                              boolean packedA, boolean transB, float[] b, int bOff, int ldb, boolean accumulate,
                              float[] c, int cOff, int ldc) {
        int full = m / MR * MR;
        int rest = m - full;
        if (rest > 0) {
            float[] rows = s.rows = Matrices.grow(s.rows, MR * k);
            for (int p = 0; p < k; p++) {
                for (int r = 0; r < MR; r++) {
                    rows[p * MR + r] = r < rest ? a[aOff + (full + r) * rowStep + p * colStep] : 0f;
                }
            }
        }
        for (int j = 0; j < n; j += NR) {
            int w = Math.min(NR, n - j);
            float[] pb = b;
            int pOff = bOff + j;
            int pld = ldb;
            if (transB || w < NR || m >= PACK_ROWS) {
                pb = s.panel = Matrices.grow(s.panel, k * NR);
                pOff = 0;
                pld = NR;
                packPanel(transB, k, w, b, bOff, ldb, j, pb);
            }
            for (int i = 0; i < m; i += MR) {
                float[] ta = i == full ? s.rows : packedA ? s.a : a;
                int ap = i == full ? 0 : packedA ? i * k : aOff + i * rowStep;
                int rs = i == full || packedA ? 1 : rowStep;
                int cs = i == full || packedA ? MR : colStep;
                int cp = cOff + i * ldc + j;
                if (w == NR && i < full) {
                    tile8x2(k, ta, ap, rs, cs, pb, pOff, pld, accumulate, c, cp, ldc);
                } else {
                    int h = Math.min(MR, m - i);
                    copyEdge(accumulate, c, cp, ldc, s.edge, h, w, true);
                    tile8x2(k, ta, ap, rs, cs, pb, pOff, pld, accumulate, s.edge, 0, NR);
                    copyEdge(true, c, cp, ldc, s.edge, h, w, false);
                }
            }
        }
    }

    /** panel[p·32 + q] = op(B)[p][j + q] for q < w, 0 for w ≤ q < 32. */
    private static void packPanel(boolean transB, int k, int w, float[] b, int bOff, int ldb, int j, float[] panel) {
        if (w < NR) {
            java.util.Arrays.fill(panel, 0, k * NR, 0f);
        }
        if (transB) {
            for (int q = 0; q < w; q++) {
                for (int p = 0, src = bOff + (j + q) * ldb; p < k; p++) {
                    panel[p * NR + q] = b[src + p];
                }
            }
        } else {
            for (int p = 0; p < k; p++) {
                System.arraycopy(b, bOff + p * ldb + j, panel, p * NR, w);
            }
        }
    }

    /** Between rows × w of C and the edge tile (32 wide): into it when {@code in} (if {@code copy}), else back. */
    private static void copyEdge(boolean copy, float[] c, int cp, int ldc, float[] edge, int rows, int w, boolean in) {
        for (int r = 0; copy && r < rows; r++) {
            if (in) {
                System.arraycopy(c, cp + r * ldc, edge, r * NR, w);
            } else {
                System.arraycopy(edge, r * NR, c, cp + r * ldc, w);
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
}
