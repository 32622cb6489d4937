package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seqspark.natives.BlasLibrary;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java fallback: what a machine gets where no native BLAS loads. Runs only in the JVM of Surefire's
 * {@code java-blas} execution ({@code -Dseqspark.blas=java}: netlib is pointed at a library that does not
 * exist), together with {@link RecurrentGoldenTest}, which there checks the whole recurrent layer against
 * PyTorch on netlib's Java BLAS.
 */
class JavaBlasFallbackTest {

    @Test
    void fallsBackToPureJavaAndMultipliesRight() {
        assumeTrue("java".equals(System.getProperty(BlasLibrary.SETTING)), "only in the java-blas execution");
        assertFalse(Blas.isNative(), Blas.describe());
        assertEquals("java", Blas.source());
        String impl = Blas.shortName();
        assertTrue(impl.equals("java:Java11BLAS") || impl.equals("java:VectorBLAS"), impl);
        assertEquals("java (" + impl.substring(5) + "; seqspark.blas=java)", Blas.describe());
        assertNull(Blas.library());
        assertTrue(BlasLibrary.mappedBlasLibraries().isEmpty(), "no native BLAS mapped: " + BlasLibrary.mappedBlasLibraries());

        Random rnd = new Random(11);
        int m = 19;
        int n = 33;
        int k = 70;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] a = BlasTest.random(rnd, m * k);
                float[] b = BlasTest.random(rnd, k * n);
                float[] c = BlasTest.random(rnd, m * n);
                float[] want = c.clone();
                BlasTest.reference(ta, tb, m, n, k, -1f, a, b, 0.25f, want);
                Blas.gemm(ta, tb, m, n, k, -1f, a, 0, ta ? m : k, b, 0, tb ? k : n, 0.25f, c, 0, n);
                for (int i = 0; i < c.length; i++) {
                    assertEquals(want[i], c[i], 1e-4 * (1 + Math.abs(want[i])), "transA " + ta + " transB " + tb + " at " + i);
                }
            }
        }
    }
}
