package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default BLAS of a SeqSpark JVM is the OpenBLAS bundled in the jar (org.bytedeco:openblas), even where
 * the system has its own: extracted into the cache, loaded with its companions from there, one thread under
 * OPENBLAS_NUM_THREADS=1 (Surefire sets it), and it multiplies right.
 */
class BundledBlasTest {

    @Test
    void bundledOpenBlasIsLoadedByDefault() throws Exception {
        // (netlib's own properties are set by Blas itself once any test has multiplied: not checked here.)
        assumeTrue(System.getProperty(BlasLibrary.SETTING) == null && System.getenv(BlasLibrary.SETTING_ENV) == null,
                "the BLAS is chosen by the default order only");
        String described = Blas.describe();
        assertTrue(Blas.isNative(), described);
        assertEquals("bundled", Blas.source(), described);
        assertEquals("native:bundled:openblas-0.3.31", Blas.shortName());
        assertEquals("native (JNIBLAS, bundled OpenBLAS 0.3.31 from org.bytedeco:openblas, OPENBLAS_NUM_THREADS=1, 1 thread)",
                described);
        assertEquals(1, Blas.threads(), "OpenBLAS threads under OPENBLAS_NUM_THREADS=1");

        // netlib was handed the extracted file, and the process maps exactly it (not the system's OpenBLAS or
        // libblas.so.3), with its companions from the same folder.
        Path lib = Path.of(System.getProperty(BlasLibrary.NATIVE_LIB_PATH));
        assertEquals(lib.toString(), Blas.library());
        assertEquals(List.of(lib.toString()), BlasLibrary.mappedBlasLibraries());
        BlasLibrary.Manifest m = BlasLibrary.Manifest.read();
        assertEquals(m.folderName(), lib.getParent().getFileName().toString());
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        for (String f : m.files()) {
            String p = lib.getParent().resolve(f).toString();
            assertTrue(maps.stream().anyMatch(l -> l.endsWith(" " + p)), f + " mapped from " + p);
            assertEquals(m.sha256(f), BlasLibrary.Bundled.sha256(lib.getParent().resolve(f)), f);
        }
    }

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

    @Test
    void manifestHashesAreTheJarsFiles() throws Exception {
        BlasLibrary.Manifest m = BlasLibrary.Manifest.read();
        assertEquals("libopenblas.so.0", m.library());
        for (String f : m.files()) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(m.resources() + f)) {
                assertTrue(in != null, m.resources() + f + " on the classpath");
                md.update(in.readAllBytes());
            }
            assertEquals(m.sha256(f), HexFormat.of().formatHex(md.digest()),
                    f + ": update bundled-openblas.properties with the version of " + m.artifact());
        }
    }

    /**
     * Two JVMs (here: threads) extracting into one empty cache at once both end with whole, verified files; a
     * good file is never replaced (another JVM may have loaded it), a bad one is.
     */
    @Test
    void extractionIsAtomicVerifiedAndRepairsTheCache(@TempDir Path cache) throws Exception {
        BlasLibrary.Manifest m = BlasLibrary.Manifest.read();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                runs.add(pool.submit((Callable<Path>) () -> BlasLibrary.Bundled.extract(m, cache)));
            }
            Path dir = runs.get(0).get();
            assertEquals(dir, runs.get(1).get());
            assertEquals(cache.resolve(m.folderName()), dir);
        } finally {
            pool.shutdown();
        }
        Path dir = cache.resolve(m.folderName());
        try (var files = Files.list(dir)) {
            assertEquals(m.files().stream().sorted().toList(),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
        for (String f : m.files()) {
            Path p = dir.resolve(f);
            Object inode = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
            assertEquals(m.sha256(f), BlasLibrary.Bundled.sha256(p));
            assertFalse(BlasLibrary.Bundled.ensure(m, dir, f), f + " is kept when its hash matches");
            assertEquals(inode, Files.readAttributes(p, BasicFileAttributes.class).fileKey(), f + " not replaced");
        }
        // A truncated or altered file (a crash mid-copy by a version without the rename, a disk error) is
        // replaced by the jar's.
        Path gfortran = dir.resolve("libgfortran.so.5");
        gfortran.toFile().setWritable(true);
        Files.write(gfortran, new byte[] {0x7f, 'E', 'L', 'F'});
        assertNotEquals(m.sha256("libgfortran.so.5"), BlasLibrary.Bundled.sha256(gfortran));
        BlasLibrary.Bundled.extract(m, cache);
        assertEquals(m.sha256("libgfortran.so.5"), BlasLibrary.Bundled.sha256(gfortran));
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
