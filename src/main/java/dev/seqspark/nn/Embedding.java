package dev.seqspark.nn;

import java.util.SplittableRandom;

/** torch.nn.Embedding: row {@code id} of {@code {prefix}weight} (vocab, dim) for each token id. */
public final class Embedding {
    private final Params params;
    private final ParamLayout.TensorView weight;
    private final int vocab;
    private final int dim;
    private float[] out = new float[0];

    public static void declare(ParamLayout layout, String prefix, int vocab, int dim) {
        layout.add(prefix + "weight", vocab, dim);
    }

    /** PyTorch's init: N(0, 1). */
    public static void init(Params params, String prefix, SplittableRandom rng) {
        ParamLayout.TensorView w = params.layout.get(prefix + "weight");
        for (int i = w.offset(); i < w.offset() + w.size(); i++) {
            params.values[i] = (float) gaussian(rng);
        }
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    public Embedding(Params params, String prefix) {
        this.params = params;
        this.weight = params.layout.get(prefix + "weight");
        this.vocab = weight.rows();
        this.dim = weight.cols();
    }

    public int dim() {
        return dim;
    }

    /** (n, dim) rows for n token ids; this layer's buffer, valid until the next call. */
    public float[] forward(int[] ids, int n) {
        if (out.length < n * dim) {
            out = new float[n * dim];
        }
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + vocab + ")");
            }
            System.arraycopy(params.values, weight.offset() + id * dim, out, i * dim, dim);
        }
        return out;
    }

    /** Adds dL/d(row) of each position into its token's row of the gradient. */
    public void backward(int[] ids, float[] dOut, int n) {
        float[] g = params.grads;
        for (int i = 0; i < n; i++) {
            int dst = weight.offset() + ids[i] * dim;
            int src = i * dim;
            for (int j = 0; j < dim; j++) {
                g[dst + j] += dOut[src + j];
            }
        }
    }
}
