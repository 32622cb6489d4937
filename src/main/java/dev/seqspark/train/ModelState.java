package dev.seqspark.train;

/**
 * What a training round starts from and returns: the flat weights, the optimizer's flat state (momentum
 * or Adam moments, in the weights' layout) and its step count. What the driver averages and broadcasts.
 */
public record ModelState(float[] weights, float[] optimizerState, long optimizerSteps) implements java.io.Serializable {
    public ModelState copy() {
        return new ModelState(weights.clone(), optimizerState.clone(), optimizerSteps);
    }
}
