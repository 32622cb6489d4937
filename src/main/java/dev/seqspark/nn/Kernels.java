package dev.seqspark.nn;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The elementwise kernels of the hot path, in one place: gate activations, the cells' state updates and
 * their backward passes, and softmax. Every cell and the softmax call these and nothing else.
 *
 * <p>Two implementations, chosen once per JVM as Apache Lucene chooses its vectorization provider: the scalar
 * {@link ScalarKernels} by default, and {@code VectorKernels} (the incubator Vector API) only when the
 * {@code jdk.incubator.vector} module is readable (started with {@code --add-modules jdk.incubator.vector},
 * as conf/jvm.options does), the JVM is HotSpot with its C2 compiler, and the preferred vector species is at
 * least 256 bits wide. {@code -Dseqspark.vector=false} forces the scalar path. One line says which runs and how
 * the time steps multiply (below): INFO, or WARN when those multiplies run emulated or cannot run.
 *
 * <p>Both compute the same expressions in the same order (no fused multiply-adds; softmax's sums in the same
 * lanes), so they agree bit for bit whatever the SIMD width: which of the two an executor runs does not change
 * its results. KernelsTest holds them to each other, and the golden tests run on both.
 *
 * <p>The matrix multiplies of the time steps ({@link #gemm}) take one of two paths, which round differently:
 * {@code VectorGemm} (the Vector API in 512-bit vectors; every element of C one chain of fused multiply-adds in k
 * order, the same bits on every CPU) or BLAS. By default VectorGemm where the vector kernels run on 512-bit
 * registers (AVX-512), else BLAS; {@code -Dseqspark.vector.gemm=true|false|auto}, else the environment variable
 * {@code SEQSPARK_VECTOR_GEMM}, sets it. One job takes one path: a SeqSpark driver puts its own choice in its
 * executors' environment before its SparkContext starts ({@code spark.Sessions}), and they follow it whatever they
 * would choose alone. An executor told {@code true} without 512-bit registers runs VectorGemm emulated (the same
 * bits, far slower: a warning says so; start the driver with {@code -Dseqspark.vector.gemm=false} for such
 * clusters); one without the jdk.incubator.vector module fails every multiply with one line saying why, rather
 * than giving other bits. A session SeqSpark did not build (a notebook's) gets this only from
 * {@code dev.seqspark.spark.Sessions.settings}.
 *
 * <p>What that does not make equal: BLAS itself. Its rounding depends on the library, and OpenBLAS picks its
 * kernels per CPU when it loads (Haswell, SkylakeX, Zen, …), which round differently. Every multiply on the BLAS
 * path is BLAS's, and on the VectorGemm path still a few: the shapes VectorGemm does not take (fewer than 16
 * columns, k over 2,048 without Aᵀ — a large vocabulary's head —, Aᵀ·Bᵀ), multiplies with other α or β, the dot
 * products of gradient norms and the column sums of bias gradients. So executors on different CPU families give
 * the same bits only with the same BLAS library (the bundled OpenBLAS by default, the driver's
 * {@code SEQSPARK_BLAS} otherwise) and the same OpenBLAS core type, {@code OPENBLAS_CORETYPE}, one that every CPU of
 * the cluster runs (e.g. Haswell), set for the driver and every executor ({@code spark.executorEnv}); SeqSpark does
 * not set it.
 *
 * <p>Layouts: a gate row of batch row b starts at {@code aOff + b·G·H}, with G·H values in PyTorch's gate
 * order; H-wide rows (states, saved quantities, gradients) start at {@code off + b·H}.
 */
public abstract class Kernels {
    private static final Kernels INSTANCE;
    private static final Multiplies MULTIPLIES;

    /** The implementation this JVM runs. */
    public static Kernels get() {
        return INSTANCE;
    }

    /** "vector (…)" or "scalar (…)", with the reason. */
    public abstract String describe();

    // ---- activations, in place over [from, to)

    public abstract void tanh(float[] a, int from, int to);

    public abstract void sigmoid(float[] a, int from, int to);

    public abstract void relu(float[] a, int from, int to);

    // ---- Elman RNN backward: dgi = dh ⊙ f'(pre-activation), from the activation a = f(pre-activation)

    /** dgi[dgOff + i] = dh[dhOff + i] · (1 − a[aOff + i]²) for i in [0, n). */
    public abstract void tanhBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n);

    /** dgi[dgOff + i] = a[aOff + i] &gt; 0 ? dh[dhOff + i] : 0 for i in [0, n) (the gradient at 0 is 0, as PyTorch's). */
    public abstract void reluBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n);

    // ---- GRU, gate blocks r, z, n

    /**
     * For every row: r, z = σ(gi + gh) and n = tanh(gi_n + r ⊙ gh_n), stored over the input side in place,
     * gh_n kept in {@code ghn} (H-wide rows at {@code sOff}) for backward, h_out = (1 − z) ⊙ n + z ⊙ h_prev.
     * {@code act} holds the input side W_i·x + b_i (+ b_h for r and z); {@code rh} (rows of 3H at 0) holds the
     * recurrent side W_h·h (+ b_hn in its n block), from one multiply.
     */
    public abstract void gruForward(int batch, int hidden, float[] act, int aOff, float[] rh, float[] ghn, int sOff,
                                    float[] h, int hPrev, int hOut);

    /**
     * From dL/dh_t ({@code dh}, H-wide rows at 0): dL/d(pre-activations) of the input side ({@code dgi}) and of
     * the recurrent side ({@code dgh}; they differ in the n block: r ⊙ dn), and the part of dL/dh_{t-1} that
     * does not go through W_hh, z ⊙ dh, into {@code dhPrev}.
     */
    public abstract void gruBackward(int batch, int hidden, float[] act, int aOff, float[] ghn, int sOff,
                                     float[] h, int hPrev, float[] dh, float[] dhPrev, float[] dgi, float[] dgh,
                                     int dgOff);

    // ---- LSTM, gate blocks i, f, g, o

    /**
     * For every row: i, f, o = σ, g = tanh (in place), c_out = f ⊙ c_prev + i ⊙ g, tc = tanh(c_out) (kept in
     * {@code tc}, H-wide rows at {@code sOff}), h_out = o ⊙ tc. h and c share the offsets {@code prev}/{@code out}.
     */
    public abstract void lstmForward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                                     float[] h, float[] c, int prev, int out);

    /**
     * From dL/dh_t ({@code dh}) and dL/dc_t ({@code dc}, replaced by dL/dc_{t-1}): dL/d(pre-activations) into
     * {@code dgi} (the recurrent side's are the same). dL/dh_{t-1} goes only through W_hh.
     */
    public abstract void lstmBackward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                                      float[] c, int prev, float[] dh, float[] dc, float[] dgi, int dgOff);

    // ---- softmax

    /** max of x[off, off + n). */
    public abstract float max(float[] x, int off, int n);

    /**
     * Σ exp(x[i] − shift) over [off, off + n), float32 exponentials ({@link Activations#exp}) summed in
     * {@link #LANES} float partial sums, flushed into double ones every {@link #BLOCK} elements and added in
     * lane order — the same order in both implementations; each exponential is also stored in {@code out[i]}
     * when {@code out} is not null.
     */
    public abstract double expShifted(float[] x, int off, int n, float shift, float[] out);

    /** x[i] *= s over [off, off + n). */
    public abstract void scale(float[] x, int off, int n, float s);

    // ---- the time steps' matrix multiplies: one path per job

    /**
     * Whether this JVM multiplies in VectorGemm (true) or BLAS (false): what a driver hands its executors. Throws,
     * with the one line that says why, when it was told to multiply in VectorGemm and cannot, or told nonsense.
     */
    public static boolean vectorGemm() {
        if (MULTIPLIES.failure() != null) {
            throw new IllegalStateException(MULTIPLIES.failure());
        }
        return MULTIPLIES.vector();
    }

    /**
     * C (m×n) = op(A)·op(B) (+ C when {@code accumulate}), row-major, op(A) = A (m×k) or, with {@code transA}, Aᵀ
     * for A stored k×m; op(B) = B (k×n) or, with {@code transB}, Bᵀ for B stored n×k, in VectorGemm when this JVM's
     * path is VectorGemm and the shape suits it. Returns false, computing nothing, when the shape goes to BLAS.
     * Throws, with the one line that says why, when this JVM was told to multiply in VectorGemm and cannot.
     * {@link Blas#gemm} asks here first.
     */
    static boolean gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                        float[] b, int bOff, int ldb, boolean accumulate, float[] c, int cOff, int ldc) {
        if (!MULTIPLIES.vector()) {
            return false;
        }
        if (MULTIPLIES.failure() != null) {
            throw new IllegalStateException(MULTIPLIES.failure());
        }
        if (!VectorGemm.suits(transA, transB, m, n, k)) {
            return false;
        }
        VectorGemm.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, accumulate, c, cOff, ldc);
        return true;
    }

    /** The environment variable a SeqSpark driver sets for its executors: its own path, true or false. */
    public static final String GEMM_ENV = "SEQSPARK_VECTOR_GEMM";

    /**
     * A JVM's multiply path: VectorGemm or BLAS, how (for the log line), and why every multiply fails (null when
     * it can run).
     */
    record Multiplies(boolean vector, String how, String failure) {}

    /**
     * The path from {@code -Dseqspark.vector.gemm} ({@code property}), else {@code SEQSPARK_VECTOR_GEMM}
     * ({@code env}): true, false or auto (also when neither is set: VectorGemm when the vector kernels run on
     * 512-bit registers). {@code vectorKernels}: VectorKernels run here; {@code wide}: the CPU has 512-bit
     * registers; {@code cannot}: why VectorGemm cannot run in this JVM at all (null when it can).
     */
    static Multiplies multiplies(String property, String env, boolean vectorKernels, boolean wide, String cannot) {
        boolean fromProperty = property != null && !property.isBlank();
        String value = fromProperty ? property : env;
        String setting = value == null || value.isBlank() ? null
                : (fromProperty ? "-D" + GEMM_PROPERTY : GEMM_ENV) + "=" + value.trim();
        String v = setting == null ? "auto" : value.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "auto":
                boolean vector = vectorKernels && wide;
                return new Multiplies(vector, (vector ? "VectorGemm, 512-bit registers" : "BLAS")
                        + (setting == null ? "" : " (" + setting + ")"), null);
            case "false":
                return new Multiplies(false, "BLAS (" + setting + ")", null);
            case "true":
                if (cannot != null) {
                    String failure = setting + " asks for the time steps' multiplies in VectorGemm (a SeqSpark driver"
                            + " sets it for its executors: its own path), but " + cannot + "; else start the driver"
                            + " with -D" + GEMM_PROPERTY + "=false to multiply in BLAS everywhere";
                    return new Multiplies(true, "cannot run: " + failure, failure);
                }
                return new Multiplies(true, "VectorGemm, " + (wide ? "512-bit registers"
                        : "512-bit vectors emulated: this CPU has no 512-bit registers; the same bits, far slower")
                        + " (" + setting + ")", null);
            default:
                String failure = setting + ": expected true, false or auto";
                return new Multiplies(true, "cannot run: " + failure, failure);
        }
    }

    /** Partial sums of {@link #expShifted}: element i of a row goes into sum i mod LANES, whatever the SIMD width. */
    static final int LANES = 16;

    /** Elements of a row per flush of the float partial sums into double ones (BLOCK / LANES per lane). */
    static final int BLOCK = 256;

    /** Per-thread partial sums of {@link #expShifted} (called once per row of logits: no allocation per call). */
    static final class Sums {
        final float[] part = new float[LANES];
        final double[] whole = new double[LANES];

        Sums clear() {
            java.util.Arrays.fill(part, 0f);
            java.util.Arrays.fill(whole, 0.0);
            return this;
        }
    }

    static final ThreadLocal<Sums> SUMS = ThreadLocal.withInitial(Sums::new);

    static void flush(float[] part, double[] whole) {
        for (int l = 0; l < LANES; l++) {
            whole[l] += part[l];
            part[l] = 0f;
        }
    }

    static double sumInOrder(double[] whole) {
        double z = 0;
        for (double w : whole) {
            z += w;
        }
        return z;
    }

    // ---- choosing, once per JVM

    static final String PROPERTY = "seqspark.vector";
    static final String GEMM_PROPERTY = "seqspark.vector.gemm";
    private static final String MODULE = "jdk.incubator.vector";

    static {
        INSTANCE = choose();
        boolean module = ModuleLayer.boot().findModule(MODULE).isPresent();
        // VectorGemm links against the module: touched only where it is readable.
        boolean wide = module && VectorGemm.usable();
        MULTIPLIES = multiplies(System.getProperty(GEMM_PROPERTY), System.getenv(GEMM_ENV),
                !(INSTANCE instanceof ScalarKernels), wide,
                module ? null : MODULE + " is not readable in this JVM (start it with --add-modules " + MODULE + ")");
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Kernels.class);
        String line = INSTANCE.describe() + "; time-step multiplies: " + MULTIPLIES.how();
        if (MULTIPLIES.failure() != null || MULTIPLIES.vector() && !wide) {
            log.warn("kernels {}", line);
        } else {
            log.info("kernels {}", line);
        }
    }

    private static Kernels choose() {
        String why = vectorUnavailable();
        Kernels k = null;
        if (why == null) {
            try {
                // Loaded by name: the class links against jdk.incubator.vector, which must not be touched otherwise.
                k = (Kernels) Class.forName("dev.seqspark.nn.VectorKernels").getDeclaredConstructor().newInstance();
            } catch (java.lang.reflect.InvocationTargetException e) {
                why = e.getCause().getMessage();   // e.g. a preferred species narrower than 256 bits
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                why = "the Vector API failed to load (" + e + ")";
            }
        }
        return k == null ? new ScalarKernels(why) : k;
    }

    /** Null when the Vector API may be used, else why not. */
    private static String vectorUnavailable() {
        String p = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (p.equals("false") || p.equals("off") || p.equals("scalar")) {
            return "-D" + PROPERTY + "=" + p;
        }
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            return "jdk.incubator.vector is not readable (start the JVM with --add-modules jdk.incubator.vector)";
        }
        String vm = System.getProperty("java.vm.name", "");
        if (!vm.contains("HotSpot") && !vm.contains("OpenJDK")) {
            return "the JVM is " + vm + ", not HotSpot";
        }
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:TieredStopAtLevel=") && !arg.endsWith("=4") || arg.equals("-Xint")
                    || arg.equals("-XX:-UseCompiler")) {
                return "C2 is off (" + arg + ")";
            }
        }
        return null;
    }
}
