package dev.seqspark.model;

import dev.seqspark.nn.Linear;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.Pooling;
import dev.seqspark.nn.Recurrent;
import dev.seqspark.nn.SoftmaxCrossEntropy;
import java.util.SplittableRandom;

/**
 * The computation of a {@link ClassifierSpec}: token ids → {@link Encoder} (recurrent blocks, each reading the
 * previous one's output) → pooling over each record's valid steps → linear head → softmax cross-entropy,
 * forward and backward.
 *
 * <p>A batch is B records of different lengths, time-major: token (t, b) at index t·B + b, T = the longest
 * length, positions t ≥ lengths[b] padding (any valid id; they never enter a state, as with PyTorch's
 * pack_padded_sequence(enforce_sorted=False)). Every block starts from zero states. Buffers are kept and
 * reused between calls; not thread-safe, one per task.
 */
public final class Classifier {
    private final ClassifierSpec spec;
    private final Params params;
    private final Encoder encoder;
    private final Linear head;
    private final Pooling pooling;
    private final int pooledWidth;
    private final int topDirs;
    private final int topHidden;
    private final int topLayers;

    private float[] pooled = new float[0];
    private int[] argmax = new int[0];
    private float[] dLogits = new float[0];
    private float[] dPooled = new float[0];
    private float[] dTop = new float[0];     // dL/d(top output), exactly T·B·D·H (Recurrent.backward's contract)
    private float[] dHn = new float[0];      // dL/d(top h_n), exactly h_n's size
    private float[] probs = new float[0];
    private int[] lastLengths;
    private int lastSteps;
    private int lastBatch;
    private float[] topOutput;
    private float[] topHn;

    public Classifier(ClassifierSpec spec, Params params) {
        this.spec = spec;
        this.params = params;
        this.encoder = new Encoder(spec, params);
        this.head = new Linear(params, ClassifierSpec.HEAD);
        this.pooling = spec.pooling();
        RecurrentBlock top = spec.blocks().get(spec.blocks().size() - 1);
        this.pooledWidth = top.outputSize();
        this.topDirs = top.directions();
        this.topHidden = top.hiddenSize();
        this.topLayers = top.numLayers();
    }

    public ClassifierSpec spec() {
        return spec;
    }

    public Params params() {
        return params;
    }

    /** For forward-only use with weights that no longer change (prediction, validation). */
    public Classifier freezeWeights() {
        encoder.freezeWeights();
        return this;
    }

    /**
     * Logits (B, classes) of a batch: this model's buffer, valid until the next call. {@code lengths} in [1, T]
     * (0 pools to zeros); {@code dropoutRng} null means evaluation.
     */
    public float[] forward(int[] tokens, int steps, int batch, int[] lengths, SplittableRandom dropoutRng) {
        if (lengths == null || lengths.length != batch) {
            throw new IllegalArgumentException("a classifier batch needs one length per record");
        }
        Recurrent.Output out = encoder.forward(tokens, steps, batch, lengths, null, null, dropoutRng);
        topOutput = out.output();
        topHn = out.hN();
        pooled = grow(pooled, batch * pooledWidth);
        if (pooling == Pooling.MAX) {
            argmax = growInts(argmax, batch * pooledWidth);
        }
        pooling.forward(topOutput, topHn, steps, batch, topDirs, topHidden, topLayers, lengths, pooled, argmax);
        lastLengths = lengths;
        lastSteps = steps;
        lastBatch = batch;
        return head.forward(pooled, batch);
    }

    /**
     * One training pass: forward, cross-entropy (weighted by {@code classWeights}, null for the plain mean, as
     * torch.nn.CrossEntropyLoss(weight=…)), and the gradient of every parameter written (not added) into
     * {@code params.grads}. Returns the batch's loss.
     */
    public double forwardBackward(int[] tokens, int steps, int batch, int[] lengths, int[] targets, float[] classWeights,
                                  SplittableRandom dropoutRng) {
        float[] logits = forward(tokens, steps, batch, lengths, dropoutRng);
        int classes = spec.numClasses();
        dLogits = grow(dLogits, batch * classes);
        double loss = SoftmaxCrossEntropy.forwardBackwardWeighted(logits, targets, classWeights, batch, classes, dLogits);
        backward();
        return loss;
    }

    /** Backward of the last forward from {@code dLogits}; zeroes the gradients first. */
    private void backward() {
        params.zeroGrads();
        int batch = lastBatch;
        int steps = lastSteps;
        dPooled = grow(dPooled, batch * pooledWidth);
        head.backward(pooled, dLogits, batch, dPooled);
        float[] dOut = null;
        float[] dH = null;
        if (pooling.usesOutput()) {
            int n = steps * batch * pooledWidth;
            if (dTop.length != n) {
                dTop = new float[n];
            }
            dOut = dTop;
        } else {
            int n = topLayers * topDirs * batch * topHidden;
            if (dHn.length != n) {
                dHn = new float[n];   // exactly h_n's size (Recurrent.backward's contract)
            }
            dH = dHn;
        }
        pooling.backward(dPooled, steps, batch, topDirs, topHidden, topLayers, lastLengths, argmax, dOut, dH);
        encoder.backward(dOut, dH);
    }

    /**
     * Σ over the batch of the (unweighted) cross-entropy, and each record's predicted class into {@code predicted}:
     * forward only, for validation.
     */
    public double sumLoss(int[] tokens, int steps, int batch, int[] lengths, int[] targets, int[] predicted) {
        float[] logits = forward(tokens, steps, batch, lengths, null);
        int classes = spec.numClasses();
        if (predicted != null) {
            for (int b = 0; b < batch; b++) {
                predicted[b] = argmax(logits, b * classes, classes);
            }
        }
        return SoftmaxCrossEntropy.sumLoss(logits, targets, null, batch, classes);
    }

    /** The index of the largest of {@code n} values at {@code off} (the first on a tie): argmax, as torch.argmax. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (x[off + j] > x[off + best]) {
                best = j;
            }
        }
        return best;
    }

    /** softmax of the logits of record {@code b} of the last forward into {@code out} at {@code outOff}. */
    public static void softmax(float[] logits, int off, int classes, float[] out, int outOff) {
        double logZ = SoftmaxCrossEntropy.logSumExp(logits, off, classes);
        for (int j = 0; j < classes; j++) {
            out[outOff + j] = (float) Math.exp(logits[off + j] - logZ);
        }
    }

    /** Floats of working memory a forward holds per (step, record) row, for sizing batches by memory. */
    public long forwardFloatsPerRow() {
        return encoder.forwardFloatsPerRow();
    }

    /** The recurrent blocks under the pooling (for forwards that carry states chunk by chunk: prediction). */
    public Encoder encoder() {
        return encoder;
    }

    /** Probabilities (B, classes) of the last forward's logits: this model's buffer. */
    public float[] probabilities(float[] logits, int batch) {
        int classes = spec.numClasses();
        probs = grow(probs, batch * classes);
        for (int b = 0; b < batch; b++) {
            softmax(logits, b * classes, classes, probs, b * classes);
        }
        return probs;
    }

    private static float[] grow(float[] buf, int size) {
        return buf.length >= size ? buf : new float[size];
    }

    private static int[] growInts(int[] buf, int size) {
        return buf.length >= size ? buf : new int[size];
    }
}
