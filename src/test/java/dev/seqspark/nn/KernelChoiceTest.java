package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.testutil.SparkTestSession;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * What this JVM chose, once, from its settings, and what the executors of its Spark jobs are told to choose. Runs
 * in both Surefire executions: the default one (the Vector API kernels; on an AVX-512 machine the time steps'
 * multiplies in VectorGemm) and the second (-Dseqspark.vector=false: scalar kernels, multiplies in BLAS).
 */
class KernelChoiceTest {

    @Test
    void theKernelsAreStatedAndMatchTheProperty() {
        String p = System.getProperty(Kernels.PROPERTY, "auto");
        String chosen = Kernels.get().describe();
        assertTrue(chosen.startsWith(p.equals("false") ? "scalar" : "vector"), chosen
                + " with -D" + Kernels.PROPERTY + "=" + p + " (this JVM has --add-modules jdk.incubator.vector)");
    }

    @Test
    void theMultiplyPathFollowsItsSettingWhateverTheMachineWouldChoose() {
        // Unset (or auto): VectorGemm only where the vector kernels run on 512-bit registers.
        assertTrue(Kernels.multiplies(null, null, true, true, null).vector());
        assertFalse(Kernels.multiplies(null, null, true, false, null).vector());
        assertFalse(Kernels.multiplies(null, "", false, true, null).vector());
        assertTrue(Kernels.multiplies("auto", "false", true, true, null).vector(), "the property wins, auto too");
        // A driver's choice in the environment: followed by a machine that would choose the other path alone.
        assertFalse(Kernels.multiplies(null, "false", true, true, null).vector());
        Kernels.Multiplies narrow = Kernels.multiplies(null, "true", false, false, null);
        assertTrue(narrow.vector());
        assertNull(narrow.failure());
        assertTrue(narrow.how().contains("emulated"), narrow.how());
        // -Dseqspark.vector.gemm wins over the environment.
        assertFalse(Kernels.multiplies("false", "true", true, true, null).vector());
        assertTrue(Kernels.multiplies(" TRUE ", "false", true, true, null).vector());
        // Told VectorGemm where it cannot run, or told nonsense: one line saying why, never the other path.
        Kernels.Multiplies cannot = Kernels.multiplies(null, "true", false, false, "jdk.incubator.vector is not readable");
        assertTrue(cannot.vector());
        assertTrue(cannot.failure().startsWith(Kernels.GEMM_ENV + "=true asks for the time steps' multiplies in"
                + " VectorGemm"), cannot.failure());
        assertTrue(cannot.failure().contains("jdk.incubator.vector is not readable"), cannot.failure());
        assertTrue(cannot.failure().contains("-Dseqspark.vector.gemm=false"), cannot.failure());
        assertFalse(cannot.failure().contains("\n"), cannot.failure());
        assertEquals("-Dseqspark.vector.gemm=yes: expected true, false or auto",
                Kernels.multiplies("yes", null, true, true, null).failure());
    }

    @Test
    void blasGemmTakesThePathChosen() {
        // A shape VectorGemm takes: its bits are the chain of fused multiply-adds in k order; BLAS's are netlib's.
        // OpenBLAS's differ from the chain in most elements (bundled 0.3.31, Haswell and Zen 5 kernels), so the
        // default execution tells the paths apart; netlib's pure-Java BLAS (the second) computes the same chain.
        int m = 9;
        int n = 40;
        int k = 33;
        SplittableRandom r = new SplittableRandom(5);
        float[] a = KernelsTest.random(r, m * k, 1);
        float[] b = KernelsTest.random(r, k * n, 1);
        float[] c = new float[m * n];
        Blas.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        float[] want = new float[m * n];
        if (Kernels.vectorGemm()) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0f;
                    for (int p = 0; p < k; p++) {
                        s = Math.fma(a[i * k + p], b[p * n + j], s);
                    }
                    want[i * n + j] = s;
                }
            }
        } else {
            dev.ludovic.netlib.blas.BLAS.getInstance().sgemm("N", "N", n, m, k, 1f, b, n, a, k, 0f, want, n);
        }
        assertEquals(List.of(), mismatches(want, c), "Blas.gemm on the " + (Kernels.vectorGemm() ? "VectorGemm" : "BLAS")
                + " path");
    }

    private static List<Integer> mismatches(float[] want, float[] got) {
        List<Integer> bad = new java.util.ArrayList<>();
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                bad.add(i);
            }
        }
        return bad;
    }

    /**
     * The executors of the test suite's session (built with Sessions.settings, as every SeqSpark command builds its
     * own) are told the driver's path: read in Spark tasks from the configuration Spark hands executors, the
     * setting leads an executor that would choose the other path alone (its kernels and registers say so) to the
     * driver's. In local mode the executors are this JVM, so the choice is worked out from what an executor JVM
     * would be started with rather than read from one.
     */
    @Test
    void executorsFollowTheDriversPath() {
        boolean driver = Kernels.vectorGemm();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
        List<Boolean> executors = jsc.parallelize(List.of(1, 2, 3, 4), 4).map(i -> {
            String told = SparkEnv.get().conf().get("spark.executorEnv." + Kernels.GEMM_ENV, null);
            return Kernels.multiplies(null, told, !driver, !driver, null).vector();
        }).collect();
        assertEquals(List.of(driver, driver, driver, driver), executors);
    }
}
