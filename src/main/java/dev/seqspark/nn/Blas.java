package dev.seqspark.nn;

import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Row-major single-precision matrix multiply on {@code float[]}, through netlib's BLAS
 * ({@code dev.ludovic.netlib}, the BLAS that breeze and Spark ML multiply through).
 *
 * <p>netlib picks native BLAS first (JNI, {@code dlopen}), then pure-Java VectorBLAS or Java11BLAS.
 * Unless the user names a library, we ask for OpenBLAS by its own name ({@code libopenblas.so.0}) so that
 * a reference {@code libblas.so.3} that happens to win Debian's alternatives is never picked by accident.
 * OpenBLAS must run one thread per task ({@code OPENBLAS_NUM_THREADS=1}): Spark's tasks are the parallelism,
 * and OpenBLAS threads spin against each other on a busy machine.
 */
public final class Blas {
    private static final String NATIVE_LIB = "dev.ludovic.netlib.blas.nativeLib";
    private static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
    // netlib logs (java.util.logging) a warning for every implementation it skips; describe() says which
    // one runs instead. Held here because java.util.logging keeps loggers only weakly.
    private static final java.util.logging.Logger NETLIB_LOG = quiet("dev.ludovic.netlib.blas.InstanceBuilder");
    private static final dev.ludovic.netlib.blas.BLAS BLAS = load();

    private Blas() {}

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(name);
        log.setLevel(java.util.logging.Level.SEVERE);
        return log;
    }

    private static dev.ludovic.netlib.blas.BLAS load() {
        if (System.getProperty(NATIVE_LIB) == null && System.getProperty(NATIVE_LIB_PATH) == null) {
            System.setProperty(NATIVE_LIB, "libopenblas.so.0");
        }
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

    /** One line saying which BLAS runs, e.g. {@code native (JNIBLAS, libopenblas.so.0, OPENBLAS_NUM_THREADS=1)}. */
    public static String describe() {
        String impl = BLAS.getClass().getSimpleName();
        if (!isNative()) {
            return "java (" + impl + "; native OpenBLAS not loaded: apt-get install libopenblas0-pthread)";
        }
        String lib = System.getProperty(NATIVE_LIB_PATH, System.getProperty(NATIVE_LIB));
        String threads = System.getenv("OPENBLAS_NUM_THREADS");
        return "native (" + impl + ", " + lib + ", OPENBLAS_NUM_THREADS=" + (threads == null ? "unset" : threads) + ")";
    }

    /** Short name for machine-readable output: {@code openblas} or the pure-Java class name. */
    public static String shortName() {
        return isNative() ? "native:" + System.getProperty(NATIVE_LIB_PATH, System.getProperty(NATIVE_LIB))
                : BLAS.getClass().getSimpleName();
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
