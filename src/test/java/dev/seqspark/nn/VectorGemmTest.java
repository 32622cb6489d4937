package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The Vector API matrix multiply: for every shape — full 8×32 tiles, the rows and columns past them, sums longer
 * than one k-block with Aᵀ, Bᵀ, offsets and row strides wider than the matrix — each element of C is bit for bit the
 * chain of {@link Math#fma} over p in order (so tiling changes nothing), and within float32 rounding of the sum in
 * double (|error| ≤ 1e-5·Σ|a·b|). On every machine: VectorGemm names its species ({@code FloatVector.SPECIES_512}),
 * which the Vector API runs on any CPU, in registers where it has 512-bit ones and emulated (far slower) where
 * not, with the same bits. Blas.gemm hands it the shapes it suits when the vector kernels run, and BLAS
 * otherwise; the golden tests run on both (Surefire's second execution turns the vector path off).
 */
class VectorGemmTest {

    @Test
    void equalsTheFmaChainAndTheExactSumForEveryShape() {
        assertEquals(FloatVector.SPECIES_512, VectorGemm.S, "one species on every machine, whatever it prefers");
        SplittableRandom r = new SplittableRandom(7);
        int[][] shapes = {{32, 768, 256}, {8, 32, 1}, {7, 31, 5}, {9, 33, 17}, {17, 48, 300}, {1, 16, 3},
                {40, 80, 600}, {3, 100, 2}, {33, 64, 0}, {64, 256, 1024}, {1120, 28, 256}};
        for (int[] s : shapes) {
            for (int ops = 0; ops < 3; ops++) {   // A·B, Aᵀ·B, A·Bᵀ
                for (boolean accumulate : new boolean[] {false, true}) {
                    check(r, ops == 1, ops == 2, accumulate, s[0], s[1], s[2]);
                }
            }
        }
    }

    private static void check(SplittableRandom r, boolean transA, boolean transB, boolean accumulate,
                              int m, int n, int k) {
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int lda = aCols + 3;
        int ldb = (transB ? k : n) + 5;
        int ldc = n + 2;
        int aOff = 11;
        int bOff = 4;
        int cOff = 9;
        float[] a = random(r, aOff + aRows * lda);
        float[] b = random(r, bOff + (transB ? n : k) * ldb);
        float[] c = random(r, cOff + m * ldc);
        float[] before = c.clone();
        VectorGemm.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, accumulate, c, cOff, ldc);
        String shape = (transA ? "Aᵀ " : "A ") + (transB ? "Bᵀ " : "B ") + m + "×" + n + "×" + k + (accumulate ? " +C" : "");
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float chain = accumulate ? before[cOff + i * ldc + j] : 0f;
                double exact = chain;
                double magnitude = Math.abs(chain);
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    chain = Math.fma(x, y, chain);
                    exact += (double) x * y;
                    magnitude += Math.abs((double) x * y);
                }
                float got = c[cOff + i * ldc + j];
                assertEquals(Float.floatToIntBits(chain), Float.floatToIntBits(got), shape + " at " + i + "," + j);
                assertTrue(Math.abs(got - exact) <= 1e-5 * magnitude + 1e-30, shape + " at " + i + "," + j);
            }
            // nothing outside the row's n columns is written
            for (int j = n; j < ldc && i * ldc + j + cOff < c.length; j++) {
                assertEquals(before[cOff + i * ldc + j], c[cOff + i * ldc + j], shape + " padding " + i + "," + j);
            }
        }
        for (int q = 0; q < cOff; q++) {
            assertEquals(before[q], c[q], shape + " before the offset");
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    @Test
    void blasGemmUsesItOnlyWhereItSuits() {
        assertTrue(VectorGemm.suits(false, false, 32, 768, 256), "a GRU-256 time step");
        assertTrue(VectorGemm.suits(true, false, 768, 256, 1120), "W_hh's gradient over a batch");
        assertTrue(VectorGemm.suits(false, true, 1120, 1024, 256), "an upper LSTM layer's input multiply");
        assertFalse(VectorGemm.suits(false, false, 1120, 512, 30000), "a 30,000-word head's backward: B leaves L2");
        assertFalse(VectorGemm.suits(false, false, 1120, 8, 256), "fewer than 16 columns");
        assertFalse(VectorGemm.suits(true, true, 64, 64, 64), "Aᵀ·Bᵀ");
    }

    @Test
    void blasGemmAgreesWithTheKernelsChoice() {
        // Through Blas.gemm, whichever path this JVM takes: within float32 rounding of the sum in double.
        SplittableRandom r = new SplittableRandom(3);
        int m = 24;
        int n = 80;
        int k = 70;
        float[] a = random(r, m * k);
        float[] b = random(r, k * n);
        float[] c = new float[m * n];
        Blas.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    exact += (double) a[i * k + p] * b[p * n + j];
                    magnitude += Math.abs((double) a[i * k + p] * b[p * n + j]);
                }
                assertTrue(Math.abs(c[i * n + j] - exact) <= 1e-5 * magnitude, i + "," + j);
            }
        }
    }
}
