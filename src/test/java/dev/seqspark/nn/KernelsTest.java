package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two kernel implementations compute the same bits: every kernel on random data (hidden sizes that are and
 * are not a multiple of the vector width, batches of several rows) through {@link ScalarKernels} and through
 * {@link VectorKernels}, made here whatever {@link Kernels#get()} chose (executors of one job may differ; what
 * a JVM chooses is KernelChoiceTest's). Needs jdk.incubator.vector, which conf/jvm.options adds to every
 * Surefire JVM, and a preferred species of at least 256 bits.
 */
class KernelsTest {
    private static final Kernels SCALAR = new ScalarKernels(null);
    private static Kernels vector;

    @BeforeAll
    static void vectorKernels() {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "jdk.incubator.vector is not readable");
        try {
            vector = new VectorKernels();
        } catch (UnsupportedOperationException e) {
            assumeTrue(false, e.getMessage());   // a CPU whose vectors are narrower than 256 bits runs scalar only
        }
    }

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /** Runs {@code op} on copies of {@code arrays} with both implementations and compares every array bit for bit. */
    static void same(String what, float[][] arrays, java.util.function.BiConsumer<Kernels, float[][]> op) {
        float[][] a = deepCopy(arrays);
        float[][] b = deepCopy(arrays);
        op.accept(SCALAR, a);
        op.accept(vector, b);
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], what + ": array " + i + " (" + vector.describe() + ")");
        }
    }

    static float[][] deepCopy(float[][] x) {
        float[][] y = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i].clone();
        }
        return y;
    }

    @Test
    void everyKernelGivesTheSameBits() {
        SplittableRandom r = new SplittableRandom(7);
        for (int hidden : new int[] {5, 16, 37, 64, 256}) {
            int batch = 3;
            int bh = batch * hidden;
            for (double scale : new double[] {0.5, 4, 30}) {
                float[] acts = random(r, 4 * bh + 40, scale);
                same("tanh", new float[][] {acts}, (k, x) -> k.tanh(x[0], 3, 3 + bh));
                same("sigmoid", new float[][] {acts}, (k, x) -> k.sigmoid(x[0], 1, 1 + 2 * bh + 7));
                same("relu", new float[][] {acts}, (k, x) -> k.relu(x[0], 0, bh));
                float[] dh = random(r, bh + 2, 1);
                same("tanhBackward", new float[][] {acts, dh, new float[bh + 9]},
                        (k, x) -> k.tanhBackward(x[0], 2, x[1], 1, x[2], 4, bh));
                same("reluBackward", new float[][] {acts, dh, new float[bh + 9]},
                        (k, x) -> k.reluBackward(x[0], 2, x[1], 1, x[2], 4, bh));
                // GRU: act (B, 3H) at 0, ghn (B, H), states (3B, H): prev slot 1, out slot 2.
                float[] gru = random(r, 3 * bh, scale);
                float[] rh = random(r, 3 * bh, scale);
                float[] h = random(r, 3 * bh, 1);
                same("gruForward", new float[][] {gru, rh, new float[bh], h},
                        (k, x) -> k.gruForward(batch, hidden, x[0], 0, x[1], x[2], 0, x[3], bh, 2 * bh));
                float[] gruAct = gru.clone();
                float[] ghn = new float[bh];
                SCALAR.gruForward(batch, hidden, gruAct, 0, rh, ghn, 0, h.clone(), bh, 2 * bh);
                same("gruBackward", new float[][] {gruAct, ghn, h, dh, new float[bh], new float[3 * bh], new float[3 * bh]},
                        (k, x) -> k.gruBackward(batch, hidden, x[0], 0, x[1], 0, x[2], bh, x[3], x[4], x[5], x[6], 0));
                float[] lstm = random(r, 4 * bh, scale);
                float[] c = random(r, 3 * bh, 2);
                same("lstmForward", new float[][] {lstm, new float[bh], h, c},
                        (k, x) -> k.lstmForward(batch, hidden, x[0], 0, x[1], 0, x[2], x[3], bh, 2 * bh));
                float[] lstmAct = lstm.clone();
                float[] tc = new float[bh];
                SCALAR.lstmForward(batch, hidden, lstmAct, 0, tc, 0, h.clone(), c.clone(), bh, 2 * bh);
                same("lstmBackward", new float[][] {lstmAct, tc, c, dh, random(r, bh, 1), new float[4 * bh]},
                        (k, x) -> k.lstmBackward(batch, hidden, x[0], 0, x[1], 0, x[2], bh, x[3], x[4], x[5], 0));
            }
        }
    }

    @Test
    void softmaxPiecesGiveTheSameBits() {
        SplittableRandom r = new SplittableRandom(8);
        for (int n : new int[] {1, 7, 16, 17, 28, 100, 30_000}) {
            float[] x = random(r, n + 5, 20);
            assertEquals(SCALAR.max(x, 3, n), vector.max(x, 3, n));
            float m = SCALAR.max(x, 3, n);
            float[] a = new float[n + 5];
            float[] b = new float[n + 5];
            assertEquals(SCALAR.expShifted(x, 3, n, m, a), vector.expShifted(x, 3, n, m, b), "sum of " + n);
            assertArrayEquals(a, b, "exponentials of " + n);
            assertEquals(SCALAR.expShifted(x, 3, n, m, null), vector.expShifted(x, 3, n, m, null));
            double exact = 0;
            for (int i = 3; i < 3 + n; i++) {
                exact += Math.exp((double) x[i] - m);
            }
            assertEquals(exact, SCALAR.expShifted(x, 3, n, m, null), 3e-7 * exact, "float exponentials, sums flushed to double");
            float[] s1 = x.clone();
            float[] s2 = x.clone();
            SCALAR.scale(s1, 3, n, 0.37f);
            vector.scale(s2, 3, n, 0.37f);
            assertArrayEquals(s1, s2);
        }
    }

    @Test
    void inPlaceRangesTouchOnlyTheRange() {
        for (Kernels k : new Kernels[] {SCALAR, vector}) {
            float[] a = new float[40];
            java.util.Arrays.fill(a, 0.5f);
            k.tanh(a, 3, 37);
            k.sigmoid(a, 37, 38);
            assertEquals(0.5f, a[2]);
            assertEquals(Math.tanh(0.5), a[3], 3.6e-7);
            assertEquals(Math.tanh(0.5), a[36], 3.6e-7);
            assertEquals(1 / (1 + Math.exp(-0.5)), a[37], 2e-7);
            assertEquals(0.5f, a[38]);
        }
    }
}
