package dev.seqspark.train;

/**
 * The training state the driver keeps, averages, broadcasts and checkpoints: the flat weights θ, the
 * optimizer's flat state (momentum or Adam moments, in the weights' layout) and its step count, and the
 * outer update's block momentum Δ (BMUF; empty for plain averaging, and in what workers receive and return).
 */
public record ModelState(float[] weights, float[] optimizerState, long optimizerSteps, float[] blockMomentum)
        implements java.io.Serializable {
    private static final float[] NONE = new float[0];

    public ModelState {
        blockMomentum = blockMomentum == null ? NONE : blockMomentum;
    }

    /** A state without block momentum. */
    public ModelState(float[] weights, float[] optimizerState, long optimizerSteps) {
        this(weights, optimizerState, optimizerSteps, NONE);
    }
}
