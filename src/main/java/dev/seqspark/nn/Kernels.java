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
 * least 256 bits wide. {@code -Dseqspark.vector=false} forces the scalar path. One INFO line says which runs.
 *
 * <p>Both compute the same expressions in the same order (no fused multiply-adds; softmax's sums in the same
 * lanes), so they agree bit for bit whatever the SIMD width: a job whose executors differ still gives one
 * result. KernelsTest holds them to each other, and the golden tests run on both.
 *
 * <p>The vector implementation also does the matrix multiplies of the time steps ({@link #gemm}, where AVX-512 is
 * there: {@code VectorGemm}); {@code -Dseqspark.vector.gemm=false} leaves them to BLAS.
 *
 * <p>Layouts: a gate row of batch row b starts at {@code aOff + b·G·H}, with G·H values in PyTorch's gate
 * order; H-wide rows (states, saved quantities, gradients) start at {@code off + b·H}.
 */
public abstract class Kernels {
    private static final Kernels INSTANCE = choose();

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

    // ---- matrix multiply

    /**
     * C (m×n) = op(A)·op(B) (+ C when {@code accumulate}), row-major, op(A) = A (m×k) or, with {@code transA}, Aᵀ
     * for A stored k×m; op(B) = B (k×n) or, with {@code transB}, Bᵀ for B stored n×k. Returns false, computing
     * nothing, when this implementation leaves the shape to BLAS — which the scalar one always does.
     * {@link Blas#gemm} asks here first.
     */
    public boolean gemm(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                        float[] b, int bOff, int ldb, boolean accumulate, float[] c, int cOff, int ldc) {
        return false;
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
        if (k == null) {
            k = new ScalarKernels(why);
        }
        org.slf4j.LoggerFactory.getLogger(Kernels.class).info("kernels {}", k.describe());
        return k;
    }

    /** Null when the Vector API may be used, else why not. */
    private static String vectorUnavailable() {
        String p = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (p.equals("false") || p.equals("off") || p.equals("scalar")) {
            return "-D" + PROPERTY + "=" + p;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
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
