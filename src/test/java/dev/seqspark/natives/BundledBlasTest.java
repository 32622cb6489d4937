package dev.seqspark.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.seqspark.nn.Blas;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default BLAS of a SeqSpark JVM is the OpenBLAS bundled in the jar (org.bytedeco:openblas), even where
 * the system has its own: extracted into the cache, loaded with its companions from there, one thread under
 * OPENBLAS_NUM_THREADS=1 (Surefire sets it); the manifest's hashes are the jar's files, and extraction into a
 * shared cache is atomic. (That it multiplies right: nn.BlasTest.)
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
}
