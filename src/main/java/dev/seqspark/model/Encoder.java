package dev.seqspark.model;

import dev.seqspark.nn.Embedding;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Recurrent;
import java.util.SplittableRandom;

/**
 * What every network has below its head: token ids → one-hot or embedding → the recurrent blocks in order, each
 * reading the previous one's output. Batches are time-major: token (t, b) at index t·B + b; positions
 * t ≥ lengths[b] are padding (never entering a state, as PyTorch's packed sequences). Forward keeps what
 * backward needs; backward adds every gradient from the top block's down to the embedding. Not thread-safe.
 */
public final class Encoder {
    private final Embedding embedding;    // null: one-hot input, gathered by the first block
    private final Recurrent[] blocks;
    private final Recurrent.Output[] outputs;
    private int[] lastTokens;
    private int lastRows;

    public Encoder(NetworkSpec spec, Params params) {
        this.embedding = spec.embeddingDim() > 0 ? new Embedding(params, spec.embeddingPrefix()) : null;
        this.blocks = new Recurrent[spec.blocks().size()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Recurrent(spec.recurrent(i), params, spec.prefix(i));
        }
        this.outputs = new Recurrent.Output[blocks.length];
    }

    public int blockCount() {
        return blocks.length;
    }

    /** For forward-only use with weights that no longer change: see {@link Recurrent#freezeWeights}. */
    public void freezeWeights() {
        for (Recurrent r : blocks) {
            r.freezeWeights();
        }
    }

    /**
     * Forward of a batch: block k starts from {@code h0[k]}, {@code c0[k]} (null, or a null array: zeros). Returns the
     * top block's output; {@link #output(int)} has every block's, its final states included (each block's buffers,
     * valid until the next forward). {@code dropoutRng} null means evaluation.
     */
    public Recurrent.Output forward(int[] tokens, int steps, int batch, int[] lengths, float[][] h0, float[][] c0,
                                    SplittableRandom dropoutRng) {
        int rows = steps * batch;
        for (int k = 0; k < blocks.length; k++) {
            float[] h = h0 == null ? null : h0[k];
            float[] c = c0 == null ? null : c0[k];
            if (k > 0) {
                outputs[k] = blocks[k].forward(outputs[k - 1].output(), steps, batch, lengths, h, c, dropoutRng);
            } else if (embedding == null) {
                outputs[k] = blocks[0].forwardTokens(tokens, steps, batch, lengths, h, c, dropoutRng);
            } else {
                outputs[k] = blocks[0].forward(embedding.forward(tokens, rows), steps, batch, lengths, h, c, dropoutRng);
            }
        }
        lastTokens = tokens;
        lastRows = rows;
        return outputs[blocks.length - 1];
    }

    /** Block {@code k}'s output of the last forward. */
    public Recurrent.Output output(int k) {
        return outputs[k];
    }

    /**
     * Backward of the last forward from dL/d(top output) ({@code dTop}, exactly T·B·D·H) and/or dL/d(top h_n)
     * ({@code dTopHn}, exactly h_n's size; either may be null): adds every gradient into the parameters' grads.
     */
    public void backward(float[] dTop, float[] dTopHn) {
        float[] dOut = dTop;
        float[] dH = dTopHn;
        for (int i = blocks.length - 1; i >= 0; i--) {
            dOut = blocks[i].backward(dOut, dH, null).dInput();
            dH = null;
        }
        if (embedding != null) {
            embedding.backward(lastTokens, dOut, lastRows);
        }
    }

    /** Floats of working memory a forward holds per (step, sequence) row: for sizing batches by memory. */
    public long forwardFloatsPerRow() {
        long n = embedding == null ? 0 : embedding.dim();
        for (Recurrent r : blocks) {
            n += r.forwardFloatsPerRow();
        }
        return n;
    }
}
