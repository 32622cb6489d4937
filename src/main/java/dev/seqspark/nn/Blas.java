package dev.seqspark.nn;

import dev.seqspark.natives.BlasLibrary;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;

/**
 * Row-major single-precision matrix multiply on {@code float[]}, through netlib's BLAS
 * ({@code dev.ludovic.netlib}, the BLAS that breeze and Spark ML multiply through).
 *
 * <p>netlib picks native BLAS first (its JNI shim {@code dlopen}s one library, named once per JVM by a system
 * property), then pure-Java VectorBLAS or Java11BLAS. This class's initialiser, which runs in every JVM that
 * multiplies (driver and executors), first decides which library that is ({@link BlasLibrary}): one the user
 * names, else the OpenBLAS bundled in SeqSpark's jar (extracted once into a per-user cache), else the system's
 * {@code libopenblas.so.0}, else pure Java. {@link #describe()} says which runs and where it came from.
 * OpenBLAS must run one thread per task ({@code OPENBLAS_NUM_THREADS=1}, set by SeqSpark's launchers and
 * sessions): Spark's tasks are the parallelism, and OpenBLAS threads spin against each other on a busy machine.
 */
public final class Blas {
    // netlib logs (java.util.logging) a warning for every implementation it skips; describe() says which
    // one runs instead. Held here because java.util.logging keeps loggers only weakly.
    private static final java.util.logging.Logger NETLIB_LOG = quiet("dev.ludovic.netlib.blas.InstanceBuilder");
    private static final BlasLibrary.Choice CHOICE = BlasLibrary.choose();
    private static final dev.ludovic.netlib.blas.BLAS BLAS = load();

    static {
        // Once per JVM, at INFO: executors' logs say which BLAS they run (SeqSpark's own log configuration
        // shows warnings only; the driver prints describe() in its start-up line).
        org.slf4j.LoggerFactory.getLogger(Blas.class).info("BLAS {}", describe());
    }

    private Blas() {}

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(name);
        log.setLevel(java.util.logging.Level.SEVERE);
        return log;
    }

    private static dev.ludovic.netlib.blas.BLAS load() {
        // netlib 3.0.x prints "trying to return java 16 instance" on System.out; keep stdout for results.
        PrintStream out = System.out;
        synchronized (System.class) {
            try {
                System.setOut(new PrintStream(OutputStream.nullOutputStream()));
                return dev.ludovic.netlib.blas.BLAS.getInstance();
            } finally {
                System.setOut(out);
            }
        }
    }

    /** True when the JNI (native) implementation was loaded. */
    public static boolean isNative() {
        return BLAS.getClass().getSimpleName().startsWith("JNI");
    }

    /** Where the native library came from: {@code user}, {@code bundled}, {@code system}, or {@code java}. */
    public static String source() {
        return isNative() ? CHOICE.source().name().toLowerCase(java.util.Locale.ROOT) : "java";
    }

    /**
     * The file of the native BLAS library in use (as mapped into this process), or null for pure Java. For a
     * library named without a path (the system's), the file the dynamic linker found.
     */
    public static String library() {
        if (!isNative()) {
            return null;
        }
        String asked = CHOICE.library();
        List<String> mapped = BlasLibrary.mappedBlasLibraries();
        if (asked.contains("/")) {
            try {
                return java.nio.file.Path.of(asked).toRealPath().toString();   // as /proc/self/maps names it
            } catch (java.io.IOException | RuntimeException e) {
                return asked;
            }
        }
        for (String m : mapped) {
            if (m.endsWith("/" + asked)) {
                return m;
            }
        }
        // dlopen found it through symlinks (Debian: libopenblas.so.0 -> .../openblas-pthread/libopenblasp-r0.3.21.so),
        // so the mapped file has another name: when only one BLAS is mapped, that is it.
        return mapped.size() == 1 ? mapped.get(0) : asked;
    }

    /** OpenBLAS threads counted when SeqSpark loaded the library itself (bundled), else 0 (not counted). */
    public static int threads() {
        return isNative() ? CHOICE.threads() : 0;
    }

    /**
     * One line saying which BLAS runs and where it came from, e.g.
     * {@code native (JNIBLAS, bundled OpenBLAS 0.3.31 from org.bytedeco:openblas, OPENBLAS_NUM_THREADS=1, 1 thread)},
     * {@code native (JNIBLAS, system /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so, OPENBLAS_NUM_THREADS=1)},
     * {@code native (JNIBLAS, user-named /opt/lib/libblis.so, OPENBLAS_NUM_THREADS=1)} or
     * {@code java (Java11BLAS; seqspark.blas=java)}.
     */
    public static String describe() {
        String impl = BLAS.getClass().getSimpleName();
        String note = CHOICE.note().isEmpty() ? "" : "; " + CHOICE.note();
        if (!isNative()) {
            String why = switch (CHOICE.source()) {
                case JAVA -> CHOICE.note();
                case USER -> "user-named " + CHOICE.library() + " not loaded" + note;
                case SYSTEM -> (CHOICE.note().isEmpty() ? "" : CHOICE.note() + "; ")
                        + "system " + BlasLibrary.SYSTEM_LIB + " not loaded";
                case BUNDLED -> "bundled OpenBLAS not loaded by netlib";
            };
            return "java (" + impl + "; " + why + ")";
        }
        String lib = library();
        String from = switch (CHOICE.source()) {
            case BUNDLED -> "bundled OpenBLAS " + bundledVersion() + " from org.bytedeco:openblas";
            case SYSTEM -> "system " + lib;
            case USER -> "user-named " + CHOICE.library() + (lib.equals(CHOICE.library()) ? "" : " = " + lib);
            case JAVA -> "unexpected native library " + lib;
        };
        String env = System.getenv("OPENBLAS_NUM_THREADS");
        String threads = env == null ? "OPENBLAS_NUM_THREADS unset" : "OPENBLAS_NUM_THREADS=" + env;
        if (CHOICE.threads() > 0) {
            threads += ", " + CHOICE.threads() + (CHOICE.threads() == 1 ? " thread" : " threads");
        }
        List<String> others = new java.util.ArrayList<>(BlasLibrary.mappedBlasLibraries());
        others.remove(lib);
        String also = others.isEmpty() ? "" : "; also mapped: " + String.join(", ", others);
        return "native (" + impl + ", " + from + ", " + threads + note + also + ")";
    }

    /**
     * Short name for machine-readable output: {@code native:bundled:openblas-0.3.31},
     * {@code native:system:/path/libopenblas.so.0}, {@code native:user:NAME_OR_PATH}, or {@code java:Java11BLAS}.
     */
    public static String shortName() {
        if (!isNative()) {
            return "java:" + BLAS.getClass().getSimpleName();
        }
        return switch (CHOICE.source()) {
            case BUNDLED -> "native:bundled:openblas-" + bundledVersion();
            case SYSTEM -> "native:system:" + library();
            case USER -> "native:user:" + CHOICE.library();
            case JAVA -> "native:unexpected:" + library();
        };
    }

    private static String bundledVersion() {
        try {
            return BlasLibrary.Manifest.read().version();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} with every matrix row-major (as PyTorch and numpy store them).
     * op(A) is m×k, op(B) is k×n, C is m×n; {@code lda}, {@code ldb}, {@code ldc} are the row strides of the
     * matrices as stored (the column count of a dense matrix).
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (alpha == 1f && (beta == 0f || beta == 1f)
                && Kernels.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, beta == 1f, c, cOff, ldc)) {
            return;
        }
        // A row-major matrix is its own transpose in column-major terms, so C^T = op(B)^T · op(A)^T.
        BLAS.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha,
                b, bOff, ldb, a, aOff, lda, beta, c, cOff, ldc);
    }

    /** Σ x[i]² over the whole array (BLAS sdot, SIMD lanes accumulated in float as PyTorch's norm is). */
    public static double sumOfSquares(float[] x) {
        return x.length == 0 ? 0.0 : BLAS.sdot(x.length, x, 0, 1, x, 0, 1);
    }

    private static float[] ones = new float[0];

    /**
     * {@code dst[dstOff + j] (+)= Σ_r m[mOff + r·cols + j]} for a row-major (rows × cols) matrix: the column
     * sums, as one BLAS matrix-vector product with a vector of ones.
     */
    public static void columnSums(float[] m, int mOff, int rows, int cols, float beta, float[] dst, int dstOff) {
        if (rows == 0 || cols == 0) {
            return;
        }
        float[] o = ones;
        if (o.length < rows) {
            o = new float[rows];
            java.util.Arrays.fill(o, 1f);
            ones = o;  // benign race: every published array is all ones
        }
        BLAS.sgemv("N", cols, rows, 1f, m, mOff, cols, o, 0, 1, beta, dst, dstOff, 1);
    }
}
