package dev.seqspark.natives;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Which native BLAS library netlib's JNI shim loads, decided before netlib's first load: netlib reads
 * {@code dev.ludovic.netlib.blas.nativeLibPath} (else {@code nativeLib}, default {@code libblas.so.3}) once per
 * JVM, when {@code BLAS.getInstance()} first runs, and falls back to pure Java when that library does not load.
 *
 * <p>Order of preference:
 * <ol>
 *   <li>a library the user names: netlib's own system properties, or {@code seqspark.blas} (system property) /
 *       {@code SEQSPARK_BLAS} (environment) set to a path or a library name;</li>
 *   <li>the OpenBLAS bundled in SeqSpark's jar (from {@code org.bytedeco:openblas}, linux-x86_64), extracted once
 *       per JVM into a per-user cache folder keyed by the library's SHA-256;</li>
 *   <li>the system's {@code libopenblas.so.0} (found by the dynamic linker);</li>
 *   <li>netlib's pure-Java BLAS.</li>
 * </ol>
 * {@code seqspark.blas} / {@code SEQSPARK_BLAS} may also be {@code auto} (the default: the order above),
 * {@code bundled} (bundled or pure Java), {@code system} (system or pure Java) or {@code java} (pure Java: netlib is
 * pointed at a library that does not exist).
 *
 * <p>A package of its own, below the maths: {@code nn.Blas} asks it once per JVM, before netlib's first load, and
 * nothing here knows about {@code nn}.
 */
public final class BlasLibrary {
    static final String NATIVE_LIB = "dev.ludovic.netlib.blas.nativeLib";
    static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
    public static final String SETTING = "seqspark.blas";
    public static final String SETTING_ENV = "SEQSPARK_BLAS";
    static final String CACHE = "seqspark.blas.cache";
    static final String CACHE_ENV = "SEQSPARK_BLAS_CACHE";
    public static final String SYSTEM_LIB = "libopenblas.so.0";
    static final String MANIFEST = "dev/seqspark/natives/bundled-openblas.properties";
    /** What netlib is handed for {@code seqspark.blas=java}: dlopen fails, netlib falls back to pure Java. */
    static final String NO_LIBRARY = "/dev/null/seqspark.blas=java";
    /** Name of the thread that loads the bundled library; OpenBLAS's worker threads inherit it (Linux comm). */
    private static final String LOADER_THREAD = "seqspark-blas";

    private BlasLibrary() {}

    public enum Source { USER, BUNDLED, SYSTEM, JAVA }

    /**
     * What SeqSpark asked netlib to load.
     *
     * @param library the path or name handed to netlib (null for {@link Source#JAVA})
     * @param note    why, and what was tried before (empty when nothing to say)
     * @param threads OpenBLAS threads counted when SeqSpark loaded the library itself (bundled), else 0 (not counted)
     */
    public record Choice(Source source, String library, String note, int threads) {}

    /** The SeqSpark setting: {@code seqspark.blas}, else {@code SEQSPARK_BLAS}, else {@code auto}. */
    static String setting() {
        String s = System.getProperty(SETTING);
        if (s == null || s.isBlank()) {
            s = System.getenv(SETTING_ENV);
        }
        return s == null || s.isBlank() ? "auto" : s.trim();
    }

    /** Decides, sets netlib's system properties accordingly, and says what it did. Never throws. */
    public static Choice choose() {
        String setting = setting();
        String userPath = System.getProperty(NATIVE_LIB_PATH);
        String userLib = System.getProperty(NATIVE_LIB);
        if (userPath != null || userLib != null) {
            String prop = userPath != null ? NATIVE_LIB_PATH : NATIVE_LIB;
            String note = setting.equals("auto") ? "" : SETTING + "=" + setting + " ignored: " + prop + " is set";
            return new Choice(Source.USER, userPath != null ? userPath : userLib, note, 0);
        }
        String key = setting.toLowerCase(Locale.ROOT);
        switch (key) {
            case "java":
                System.setProperty(NATIVE_LIB_PATH, NO_LIBRARY);
                return new Choice(Source.JAVA, null, SETTING + "=java", 0);
            case "system":
                System.setProperty(NATIVE_LIB, SYSTEM_LIB);
                return new Choice(Source.SYSTEM, SYSTEM_LIB, "", 0);
            case "auto":
            case "bundled":
                try {
                    Loaded l = Bundled.load();
                    System.setProperty(NATIVE_LIB_PATH, l.library().toString());
                    return new Choice(Source.BUNDLED, l.library().toString(), "", l.threads());
                } catch (Exception | LinkageError e) {   // whatever goes wrong, the next choice
                    String why = "bundled OpenBLAS not loaded: " + oneLine(e);
                    if (key.equals("bundled")) {
                        System.setProperty(NATIVE_LIB_PATH, NO_LIBRARY);
                        return new Choice(Source.JAVA, null, why, 0);
                    }
                    System.setProperty(NATIVE_LIB, SYSTEM_LIB);
                    return new Choice(Source.SYSTEM, SYSTEM_LIB, why, 0);
                }
            default:
                // A library of the user's: a path, or a name the dynamic linker looks up.
                System.setProperty(setting.contains("/") ? NATIVE_LIB_PATH : NATIVE_LIB, setting);
                return new Choice(Source.USER, setting, "", 0);
        }
    }

    private static String oneLine(Throwable e) {
        String m;
        if (e instanceof java.nio.file.FileSystemException f) {   // its message is often just the path
            m = e.getClass().getSimpleName() + " " + f.getFile() + (f.getReason() == null ? "" : ": " + f.getReason());
        } else if (e instanceof UncheckedIOException u) {
            return oneLine(u.getCause());
        } else {
            m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return m.replaceAll("\\s+", " ").trim();
    }

    /** The bundled library after loading: its path and the OpenBLAS threads it started with. */
    record Loaded(Path library, int threads) {}

    /** The files of the bundled OpenBLAS, as {@code bundled-openblas.properties} lists them. */
    public record Manifest(String artifact, String version, String resources, List<String> files, Properties props) {
        public static Manifest read() throws IOException {
            Properties p = new Properties();
            try (InputStream in = BlasLibrary.class.getClassLoader().getResourceAsStream(MANIFEST)) {
                if (in == null) {
                    throw new IOException(MANIFEST + " is not on the classpath");
                }
                p.load(in);
            }
            return new Manifest(p.getProperty("artifact"), p.getProperty("version"), p.getProperty("resources"),
                    List.of(p.getProperty("files").trim().split("\\s+")), p);
        }

        String sha256(String file) {
            return props.getProperty("sha256." + file);
        }

        /** The BLAS library itself: the last file, loaded after its companions. */
        String library() {
            return files.get(files.size() - 1);
        }

        /** The cache folder's name: the version and the start of the library's SHA-256. */
        String folderName() {
            return "openblas-" + version + "-" + sha256(library()).substring(0, 16);
        }
    }

    /** Extraction into the cache and loading of the bundled OpenBLAS. */
    static final class Bundled {
        private Bundled() {}

        static Loaded load() throws IOException {
            String os = System.getProperty("os.name", "");
            String arch = System.getProperty("os.arch", "");
            if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                throw new IOException("it is built for linux-x86_64, this JVM runs on " + os + "-" + arch);
            }
            Manifest m = Manifest.read();
            List<String> failures = new ArrayList<>();
            for (Path base : cacheBases()) {
                Path dir;
                try {
                    dir = extract(m, base);
                } catch (IOException | UncheckedIOException e) {
                    failures.add("cannot cache it in " + base + " (" + oneLine(e) + ")");
                    continue;
                }
                try {
                    int threads = loadAll(m, dir);
                    return new Loaded(dir.resolve(m.library()).toRealPath(), threads);
                } catch (UnsatisfiedLinkError | IOException e) {
                    // e.g. a cache on a noexec file system (then the next folder may do), or a glibc older than 2.34
                    failures.add(oneLine(e));
                }
            }
            throw new IOException(String.join("; ", failures));
        }

        /**
         * Where to cache: {@code seqspark.blas.cache} / {@code SEQSPARK_BLAS_CACHE} if set (only there), else
         * {@code $XDG_CACHE_HOME/seqspark} or {@code ~/.cache/seqspark}, then {@code java.io.tmpdir/seqspark-USER}.
         */
        static List<Path> cacheBases() {
            String set = System.getProperty(CACHE);
            if (set == null || set.isBlank()) {
                set = System.getenv(CACHE_ENV);
            }
            if (set != null && !set.isBlank()) {
                return List.of(Path.of(set.trim()));
            }
            Set<Path> bases = new LinkedHashSet<>();
            String xdg = System.getenv("XDG_CACHE_HOME");
            String home = System.getProperty("user.home");
            if (xdg != null && xdg.startsWith("/")) {
                bases.add(Path.of(xdg, "seqspark"));
            } else if (home != null && !home.isBlank() && !home.equals("?")) {
                bases.add(Path.of(home, ".cache", "seqspark"));
            }
            bases.add(Path.of(System.getProperty("java.io.tmpdir"), "seqspark-" + System.getProperty("user.name")));
            return new ArrayList<>(bases);
        }

        /**
         * Makes {@code base/openblas-VERSION-HASH/} hold every file of the manifest with the right SHA-256 and
         * returns it. A file already there is hashed and kept when it matches; otherwise the jar's resource is
         * written to a temporary name in the same folder, checked, and linked (or renamed) into place atomically,
         * so that JVMs starting at once (executors on one host) never see a partial file.
         */
        static Path extract(Manifest m, Path base) throws IOException {
            Files.createDirectories(base, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (Files.isSymbolicLink(base) || !Files.isDirectory(base)) {
                throw new IOException("not a directory");
            }
            String owner = Files.getOwner(base, LinkOption.NOFOLLOW_LINKS).getName();
            String me = System.getProperty("user.name");
            if (me != null && !owner.equals(me)) {
                throw new IOException("owned by " + owner + ", not " + me);
            }
            Path dir = base.resolve(m.folderName());
            Files.createDirectories(dir);
            for (String f : m.files()) {
                ensure(m, dir, f);
            }
            return dir;
        }

        /** Puts one file in place; true when it had to be written. */
        static boolean ensure(Manifest m, Path dir, String file) throws IOException {
            String want = m.sha256(file);
            if (want == null) {
                throw new IOException(MANIFEST + " has no sha256." + file);
            }
            Path target = dir.resolve(file);
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && want.equals(sha256(target))) {
                return false;
            }
            String resource = m.resources() + file;
            Path tmp = Files.createTempFile(dir, "." + file + ".", ".part");
            try {
                MessageDigest md = sha256();
                try (InputStream in = BlasLibrary.class.getClassLoader().getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IOException(resource + " is not on the classpath (" + m.artifact() + ")");
                    }
                    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), md)) {
                        in.transferTo(out);
                    }
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!got.equals(want)) {
                    throw new IOException(resource + " has SHA-256 " + got + ", " + MANIFEST + " says " + want);
                }
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-x---"));
                // A hard link puts the whole file in place at once and never replaces one that another JVM
                // has just put there (and may have loaded already); a bad file found there is replaced.
                try {
                    Files.createLink(target, tmp);
                    return true;
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && want.equals(sha256(target))) {
                        return false;
                    }
                } catch (UnsupportedOperationException | IOException e) {
                    // no hard links on this file system: rename instead
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("cannot rename atomically in " + dir, e);
                }
                return true;
            } finally {
                Files.deleteIfExists(tmp);
            }
        }

        static String sha256(Path f) throws IOException {
            MessageDigest md = sha256();
            byte[] buf = new byte[1 << 20];
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        }

        static MessageDigest sha256() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Loads the manifest's files in order (companions first: {@code libopenblas.so.0}'s RUNPATH $ORIGIN finds
         * {@code libgfortran.so.5} beside it, but {@code libgfortran}'s own {@code libquadmath.so.0} would be looked
         * up on the system, so it is loaded from the folder first and matched by its soname). Runs in a thread of
         * its own so that the OpenBLAS worker threads, started while the library loads and named after the thread
         * that loads it, can be counted. Returns OpenBLAS's thread count (workers + the caller), or 0 if unknown.
         */
        static int loadAll(Manifest m, Path dir) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<String> loaderTid = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    loaderTid.set(threadId());
                    for (String f : m.files()) {
                        try {
                            System.load(dir.resolve(f).toString());
                        } catch (UnsatisfiedLinkError e) {
                            // Loaded already in this process by another class loader (a second SeqSpark jar
                            // in one JVM): it is there, which is all netlib needs.
                            if (!String.valueOf(e.getMessage()).contains("already loaded in another classloader")) {
                                throw e;
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, LOADER_THREAD);
            t.setDaemon(true);
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnsatisfiedLinkError("interrupted while loading " + dir);
            }
            Throwable e = failure.get();
            if (e instanceof UnsatisfiedLinkError u) {
                throw u;
            } else if (e != null) {
                throw (UnsatisfiedLinkError) new UnsatisfiedLinkError(oneLine(e)).initCause(e);
            }
            return loaderTid.get() == null ? 0 : 1 + countThreads(LOADER_THREAD, loaderTid.get());
        }

        private static String threadId() {
            try {
                return Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            } catch (IOException | UnsupportedOperationException e) {
                return null;
            }
        }

        /** Threads of this process whose name is {@code name}, other than {@code exceptTid}. */
        private static int countThreads(String name, String exceptTid) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                return (int) tasks.filter(p -> !p.getFileName().toString().equals(exceptTid)).filter(p -> {
                    try {
                        return Files.readString(p.resolve("comm")).trim().equals(name);
                    } catch (IOException e) {
                        return false;   // the thread ended meanwhile
                    }
                }).count();
            } catch (IOException e) {
                return 0;
            }
        }
    }

    /** Files mapped into this process whose name says BLAS (libopenblas*, libblas*, ...), netlib's shim excluded. */
    public static List<String> mappedBlasLibraries() {
        Set<String> found = new LinkedHashSet<>();
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            lines.forEach(l -> {
                int slash = l.indexOf('/');
                if (slash < 0) {
                    return;
                }
                String path = l.substring(slash).trim();
                if (path.endsWith(" (deleted)")) {   // replaced in the cache by another JVM after we loaded it
                    path = path.substring(0, path.length() - " (deleted)".length());
                }
                String name = path.substring(path.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
                if (name.contains("blas") && name.contains(".so") && !name.startsWith("libnetlibblasjni")) {
                    found.add(path);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
        return new ArrayList<>(found);
    }
}
