package dev.seqspark.nn;

import java.util.SplittableRandom;

/**
 * torch.nn.Linear: y = x · Wᵀ + b, with W (out, in) named {@code {prefix}weight} and b (out)
 * named {@code {prefix}bias}. Forward and backward over N rows at once, one multiply each.
 */
public final class Linear {
    private final int in;
    private final int out;
    private final Params params;
    private final ParamLayout.TensorView weight;
    private final ParamLayout.TensorView bias;
    private float[] y = new float[0];

    /** Declares the weight (and bias) of a layer of this shape in {@code layout}. */
    public static void declare(ParamLayout layout, String prefix, int in, int out, boolean bias) {
        layout.add(prefix + "weight", out, in);
        if (bias) {
            layout.add(prefix + "bias", out);
        }
    }

    /** PyTorch's init: weight and bias uniform in [−1/√in, 1/√in]. */
    public static void init(Params params, String prefix, SplittableRandom rng) {
        ParamLayout.TensorView w = params.layout.get(prefix + "weight");
        double k = 1.0 / Math.sqrt(w.cols());
        fillUniform(params.values, w, k, rng);
        if (params.layout.contains(prefix + "bias")) {
            fillUniform(params.values, params.layout.get(prefix + "bias"), k, rng);
        }
    }

    static void fillUniform(float[] values, ParamLayout.TensorView t, double bound, SplittableRandom rng) {
        for (int i = t.offset(); i < t.offset() + t.size(); i++) {
            values[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
    }

    public Linear(Params params, String prefix) {
        this.params = params;
        this.weight = params.layout.get(prefix + "weight");
        this.bias = params.layout.contains(prefix + "bias") ? params.layout.get(prefix + "bias") : null;
        this.in = weight.cols();
        this.out = weight.rows();
    }

    /** Where this layer's tensors start and end in the flat arrays (weight, then bias, contiguous as declared). */
    public int firstOffset() {
        return weight.offset();
    }

    public int endOffset() {
        return bias != null ? bias.offset() + bias.size() : weight.offset() + weight.size();
    }

    /** y (n, out) = x (n, in) · Wᵀ + b. The result is this layer's buffer, valid until the next call. */
    public float[] forward(float[] x, int n) {
        return forward(x, 0, n);
    }

    /** As {@link #forward(float[], int)} for the n rows of x starting at row {@code fromRow}. */
    public float[] forward(float[] x, int fromRow, int n) {
        long size = (long) n * out;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(n + " rows of " + out + " outputs do not fit in one array");
        }
        if (y.length < size) {
            y = new float[(int) size];
        }
        float[] w = params.values;
        if (bias != null) {
            for (int r = 0; r < n; r++) {
                System.arraycopy(w, bias.offset(), y, r * out, out);
            }
        }
        Blas.gemm(false, true, n, out, in, 1f, x, fromRow * in, in, w, weight.offset(), in, bias != null ? 1f : 0f,
                y, 0, out);
        return y;
    }

    /**
     * Given dL/dy (n, out) and the forward input x, adds dW = dyᵀ·x and db = Σ dy to the gradients and
     * writes dL/dx (n, in) into {@code dx} (when not null).
     */
    public void backward(float[] x, float[] dy, int n, float[] dx) {
        backward(x, dy, n, dx, true);
    }

    /** As {@link #backward(float[], float[], int, float[])}; with {@code accumulate} false dW and db are written, not added. */
    public void backward(float[] x, float[] dy, int n, float[] dx, boolean accumulate) {
        float[] g = params.grads;
        float beta = accumulate ? 1f : 0f;
        Blas.gemm(true, false, out, in, n, 1f, dy, 0, out, x, 0, in, beta, g, weight.offset(), in);
        if (bias != null) {
            Blas.columnSums(dy, 0, n, out, beta, g, bias.offset());
        }
        if (dx != null) {
            Blas.gemm(false, false, n, in, out, 1f, dy, 0, out, params.values, weight.offset(), in, 0f, dx, 0, in);
        }
    }
}
