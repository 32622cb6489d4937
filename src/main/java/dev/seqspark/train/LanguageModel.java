package dev.seqspark.train;

import dev.seqspark.nn.Embedding;
import dev.seqspark.nn.Linear;
import dev.seqspark.nn.ModelSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Recurrent;
import dev.seqspark.nn.SoftmaxCrossEntropy;
import java.util.SplittableRandom;

/**
 * The computation of a {@link ModelSpec} language model: tokens → (embedding) → recurrent → linear head
 * → softmax cross-entropy against the next tokens, forward and backward. Batches are time-major:
 * position (t, b) is index t·B + b, as d2l's {@code Y.T.reshape(-1)} orders targets. Not thread-safe.
 */
public final class LanguageModel {
    private final ModelSpec spec;
    private final Params params;
    private final Embedding embedding;
    private final Recurrent rnn;
    private final Linear head;
    private float[] dLogits = new float[0];
    private float[] dHidden = new float[0];
    private boolean[] mask = new boolean[0];
    private float[] lastOutput;       // the recurrent output of the last forward, the head's input
    private int[] lastTokens;
    private int lastRows;

    public LanguageModel(ModelSpec spec, Params params) {
        this.spec = spec;
        this.params = params;
        this.embedding = spec.embeddingDim() > 0 ? new Embedding(params, ModelSpec.EMBEDDING) : null;
        this.rnn = new Recurrent(spec.recurrent(), params, ModelSpec.RNN);
        this.head = new Linear(params, ModelSpec.LINEAR);
    }

    public ModelSpec spec() {
        return spec;
    }

    /** For forward-only use with weights that no longer change: see {@link Recurrent#freezeWeights}. */
    public LanguageModel freezeWeights() {
        rnn.freezeWeights();
        return this;
    }

    public Params params() {
        return params;
    }

    /** Hidden state carried between batches: h (and c for LSTM), each (layers, batch, hidden). */
    public static final class State {
        public final float[] h;
        public final float[] c;

        public State(ModelSpec spec, int batch) {
            h = new float[spec.stateSize(batch)];
            c = spec.cell().hasCellState() ? new float[spec.stateSize(batch)] : null;
        }

        public State(float[] h, float[] c) {
            this.h = h;
            this.c = c;
        }

        /** Back to zeros (d2l's fresh state for a random-partition batch). */
        public void reset() {
            java.util.Arrays.fill(h, 0f);
            if (c != null) {
                java.util.Arrays.fill(c, 0f);
            }
        }

        void copyFrom(float[] hN, float[] cN) {
            System.arraycopy(hN, 0, h, 0, h.length);
            if (c != null) {
                System.arraycopy(cN, 0, c, 0, c.length);
            }
        }
    }

    /**
     * Forward over one batch from {@code state}: returns the logits ((T·B, vocab), this model's buffer)
     * and leaves the final state in {@code state} (values only: the next batch starts from them with no
     * gradient flowing back, as d2l's detach). {@code lengths} null means all T; {@code dropoutRng} null
     * means evaluation.
     */
    public float[] forward(int[] tokens, int steps, int batch, int[] lengths, State state, SplittableRandom dropoutRng) {
        int rows = steps * batch;
        float[] logits = head.forward(forwardHidden(tokens, steps, batch, lengths, state, dropoutRng), rows);
        lastTokens = tokens;
        lastRows = rows;
        return logits;
    }

    /**
     * The recurrent part of {@link #forward} alone: the top layer's output ((T·B, hidden), time-major, this
     * model's buffer), the final state left in {@code state}. With {@link #headLogits} a caller computes the
     * logits a block of rows at a time, so that (T·B, vocab) never has to exist at once (scoring).
     */
    public float[] forwardHidden(int[] tokens, int steps, int batch, int[] lengths, State state,
                                 SplittableRandom dropoutRng) {
        int rows = steps * batch;
        Recurrent.Output out = embedding == null
                ? rnn.forwardTokens(tokens, steps, batch, lengths, state.h, state.c, dropoutRng)
                : rnn.forward(embedding.forward(tokens, rows), steps, batch, lengths, state.h, state.c, dropoutRng);
        state.copyFrom(out.hN(), out.cN());
        lastOutput = out.output();
        return lastOutput;
    }

    /** Logits ((rows, vocab), the head's buffer) of rows [fromRow, fromRow + rows) of a {@link #forwardHidden} output. */
    public float[] headLogits(float[] hidden, int fromRow, int rows) {
        return head.forward(hidden, fromRow, rows);
    }

    /** Floats of working memory a forward holds per (step, sequence) row, logits aside: for sizing chunks. */
    public long forwardFloatsPerRow() {
        return rnn.forwardFloatsPerRow() + Math.max(0, spec.embeddingDim());
    }

    /**
     * One training pass: forward from {@code state}, mean cross-entropy over valid positions, and the
     * gradients of every parameter written (not added) into {@code params.grads}. Returns the mean loss.
     */
    public double forwardBackward(int[] tokens, int[] targets, int steps, int batch, int[] lengths, State state,
                                  SplittableRandom dropoutRng) {
        int rows = steps * batch;
        int vocab = spec.vocabSize();
        float[] logits = forward(tokens, steps, batch, lengths, state, dropoutRng);
        if (dLogits.length < rows * vocab) {
            dLogits = new float[rows * vocab];
        }
        double loss = SoftmaxCrossEntropy.forwardBackward(logits, targets, validMask(lengths, steps, batch), rows,
                vocab, dLogits);
        // The head's gradients are written whole by its backward; only the rest needs zeros (at V = 30,000 the
        // head is most of the model, and zeroing it every batch was a pass over 60 MB for nothing).
        boolean headLast = head.endOffset() == params.grads.length && head.firstOffset() > 0;
        if (headLast) {
            java.util.Arrays.fill(params.grads, 0, head.firstOffset(), 0f);
        } else {
            params.zeroGrads();
        }
        if (dHidden.length != rows * spec.hiddenSize()) {
            dHidden = new float[rows * spec.hiddenSize()];
        }
        head.backward(lastOutput, dLogits, rows, dHidden, !headLast);
        Recurrent.InputGrads g = rnn.backward(dHidden, null, null);
        if (embedding != null) {
            embedding.backward(lastTokens, g.dInput(), lastRows);
        }
        return loss;
    }

    /** Σ −log p(target) over valid positions, forward only (the count is the caller's). */
    public double sumLoss(int[] tokens, int[] targets, int steps, int batch, int[] lengths, State state) {
        float[] logits = forward(tokens, steps, batch, lengths, state, null);
        return SoftmaxCrossEntropy.sumLoss(logits, targets, validMask(lengths, steps, batch), steps * batch,
                spec.vocabSize());
    }

    /** Position (t, b) counts when t &lt; lengths[b]; null when all do. */
    private boolean[] validMask(int[] lengths, int steps, int batch) {
        if (lengths == null) {
            return null;
        }
        if (mask.length != steps * batch) {
            mask = new boolean[steps * batch];
        }
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                mask[t * batch + b] = t < lengths[b];
            }
        }
        return mask;
    }
}
