package dev.seqspark.model;

import dev.seqspark.nn.Linear;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Recurrent;
import dev.seqspark.nn.SoftmaxCrossEntropy;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The computation of a {@link LanguageModelSpec} language model: tokens → {@link Encoder} (one recurrent block)
 * → linear head at every position → softmax cross-entropy against the next tokens, forward and backward.
 * Batches are time-major: position (t, b) is index t·B + b, as d2l's {@code Y.T.reshape(-1)} orders targets.
 * Not thread-safe.
 */
public final class LanguageModel {
    private final LanguageModelSpec spec;
    private final Params params;
    private final Encoder encoder;
    private final Linear head;
    private float[] dLogits = new float[0];
    private float[] dHidden = new float[0];
    private boolean[] mask = new boolean[0];
    private float[] lastOutput;       // the recurrent output of the last forward, the head's input

    public LanguageModel(LanguageModelSpec spec, Params params) {
        this.spec = spec;
        this.params = params;
        this.encoder = new Encoder(spec, params);
        this.head = new Linear(params, LanguageModelSpec.LINEAR);
    }

    public LanguageModelSpec spec() {
        return spec;
    }

    /** For forward-only use with weights that no longer change: see {@link Recurrent#freezeWeights}. */
    public LanguageModel freezeWeights() {
        encoder.freezeWeights();
        return this;
    }

    public Params params() {
        return params;
    }

    /**
     * The hidden state carried between batches: h (and c for LSTM), each (layers, batch, hidden). Values only
     * (d2l's detach); a shard keeps it from one round to the next in sequential partitioning.
     */
    public static final class State implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        public final float[] h;
        public final float[] c;

        public State(LanguageModelSpec spec, int batch) {
            h = new float[spec.stateSize(batch)];
            c = spec.cell().hasCellState() ? new float[spec.stateSize(batch)] : null;
        }

        public State(float[] h, float[] c) {
            this.h = h;
            this.c = c;
        }

        /** Back to zeros (d2l's fresh state for a random-partition batch). */
        public void reset() {
            Arrays.fill(h, 0f);
            if (c != null) {
                Arrays.fill(c, 0f);
            }
        }

        /** This state's values into {@code other} (of the same shape). */
        public void copyTo(State other) {
            System.arraycopy(h, 0, other.h, 0, h.length);
            if (c != null) {
                System.arraycopy(c, 0, other.c, 0, c.length);
            }
        }

        public State copy() {
            return new State(h.clone(), c == null ? null : c.clone());
        }
    }

    /**
     * Forward over one batch from {@code state}: returns the logits ((T·B, vocab), this model's buffer)
     * and leaves the final state in {@code state} (values only: the next batch starts from them with no
     * gradient flowing back, as d2l's detach). {@code lengths} null means all T; {@code dropoutRng} null
     * means evaluation.
     */
    public float[] forward(int[] tokens, int steps, int batch, int[] lengths, State state, SplittableRandom dropoutRng) {
        return head.forward(forwardHidden(tokens, steps, batch, lengths, state, dropoutRng), steps * batch);
    }

    /**
     * The recurrent part of {@link #forward} alone: the top layer's output ((T·B, hidden), time-major, this
     * model's buffer), the final state left in {@code state}. With {@link #headLogits} a caller computes the
     * logits a block of rows at a time, so that (T·B, vocab) never has to exist at once (scoring).
     */
    public float[] forwardHidden(int[] tokens, int steps, int batch, int[] lengths, State state,
                                 SplittableRandom dropoutRng) {
        Recurrent.Output out = encoder.forward(tokens, steps, batch, lengths, new float[][] {state.h},
                new float[][] {state.c}, dropoutRng);
        new State(out.hN(), out.cN()).copyTo(state);
        lastOutput = out.output();
        return lastOutput;
    }

    /** Logits ((rows, vocab), the head's buffer) of rows [fromRow, fromRow + rows) of a {@link #forwardHidden} output. */
    public float[] headLogits(float[] hidden, int fromRow, int rows) {
        return head.forward(hidden, fromRow, rows);
    }

    /** The recurrent blocks under the head (for forwards that carry states chunk by chunk: scoring). */
    public Encoder encoder() {
        return encoder;
    }

    /** Floats of working memory a forward holds per (step, sequence) row, logits aside: for sizing chunks. */
    public long forwardFloatsPerRow() {
        return encoder.forwardFloatsPerRow();
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
            Arrays.fill(params.grads, 0, head.firstOffset(), 0f);
        } else {
            params.zeroGrads();
        }
        if (dHidden.length != rows * spec.hiddenSize()) {
            dHidden = new float[rows * spec.hiddenSize()];
        }
        head.backward(lastOutput, dLogits, rows, dHidden, !headLast);
        encoder.backward(dHidden, null);
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
