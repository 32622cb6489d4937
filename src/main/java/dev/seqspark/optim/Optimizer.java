package dev.seqspark.optim;

/**
 * An optimizer over one flat weight array and its gradient array (see dev.seqspark.nn.Params). Its state
 * (momentum, Adam's moments) is one flat array too, laid out as {@code k} consecutive copies of the weight
 * layout, so that averaging workers' states or saving a checkpoint is one array operation.
 */
public abstract class Optimizer {
    protected final int size;
    protected final float[] state;
    protected long steps;

    protected Optimizer(int size, int copies) {
        this.size = size;
        if ((long) size * copies > Integer.MAX_VALUE - 8) {    // size * copies would overflow the int
            throw new IllegalArgumentException("optimizer state of " + copies + " x " + size + " floats does not fit in one float[]");
        }
        this.state = new float[size * copies];
    }

    /** One update of {@code weights} from {@code grads} (both of length {@link #size}). */
    public final void step(float[] weights, float[] grads) {
        if (weights.length != size || grads.length != size) {
            throw new IllegalArgumentException("optimizer built for " + size + " parameters, got "
                    + weights.length + " weights and " + grads.length + " gradients");
        }
        steps++;
        update(weights, grads);
    }

    /**
     * d2l's update of one minibatch: {@code clip_grad_norm_(grads, maxNorm)} when {@code maxNorm > 0}, then
     * {@link #step}.
     */
    public final void clipAndStep(float[] weights, float[] grads, double maxNorm) {
        if (maxNorm > 0) {
            GradClip.clipByGlobalNorm(grads, maxNorm);
        }
        step(weights, grads);
    }

    protected abstract void update(float[] weights, float[] grads);

    /** The live state array ({@code size × copies} floats). */
    public float[] state() {
        return state;
    }

    /** Updates taken so far (Adam's bias correction and SGD's first momentum step depend on it). */
    public long steps() {
        return steps;
    }

    /** Replaces the state, e.g. with an average over workers or a checkpoint. */
    public void restore(float[] newState, long newSteps) {
        if (newState.length != state.length) {
            throw new IllegalArgumentException("optimizer state has " + state.length + " values, got " + newState.length);
        }
        System.arraycopy(newState, 0, state, 0, state.length);
        steps = newSteps;
    }

    /** Number of parameters. */
    public int size() {
        return size;
    }
}
