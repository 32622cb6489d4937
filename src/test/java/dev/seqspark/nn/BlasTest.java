package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Blas.gemm on every transpose, with alpha and beta, against the product in double; sdot and the column sums. */
class BlasTest {

    @Test
    void multipliesRight() {
        Random rnd = new Random(7);
        int[][] shapes = {{1, 1, 1}, {3, 5, 4}, {32, 96, 64}, {17, 3, 129}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    float[] a = random(rnd, m * k);
                    float[] b = random(rnd, k * n);
                    float[] c = random(rnd, m * n);
                    float[] want = c.clone();
                    reference(ta, tb, m, n, k, 0.5f, a, b, 1.5f, want);
                    Blas.gemm(ta, tb, m, n, k, 0.5f, a, 0, ta ? m : k, b, 0, tb ? k : n, 1.5f, c, 0, n);
                    for (int i = 0; i < c.length; i++) {
                        assertEquals(want[i], c[i], 1e-4 * (1 + Math.abs(want[i])),
                                "gemm " + m + "x" + n + "x" + k + " transA " + ta + " transB " + tb + " at " + i);
                    }
                }
            }
        }
        float[] x = {1, 2, 3};
        assertEquals(14.0, Blas.sumOfSquares(x), 1e-6);
        float[] sums = new float[2];
        Blas.columnSums(new float[] {1, 2, 3, 4, 5, 6}, 0, 3, 2, 0f, sums, 0);
        assertEquals(9f, sums[0]);
        assertEquals(12f, sums[1]);
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** C = alpha·op(A)·op(B) + beta·C, row-major, in double. */
    static void reference(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b,
                          float beta, float[] c) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                c[i * n + j] = (float) (alpha * s + beta * c[i * n + j]);
            }
        }
    }
}
