package dev.seqspark.optim;

/**
 * torch.optim.SGD (dampening 0, not Nesterov): with weight decay wd, d = g + wd·p; with momentum μ,
 * buf = d on the first step and μ·buf + d after, and d = buf; then p = p − lr·d. Each a + α·b is one fused
 * multiply-add, as PyTorch's CPU kernels do it, so that results agree to the bit.
 */
public final class Sgd extends Optimizer {
    private final float lr;
    private final float momentum;
    private final float weightDecay;

    public Sgd(int size, double lr, double momentum, double weightDecay) {
        super(size, momentum != 0 ? 1 : 0);
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be non-negative, got " + weightDecay);
        }
        this.lr = (float) lr;
        this.momentum = (float) momentum;
        this.weightDecay = (float) weightDecay;
    }

    @Override
    protected void update(float[] w, float[] g) {
        float negLr = -lr;
        if (weightDecay == 0 && momentum == 0) {    // plain SGD: a branch-free loop the JIT vectorises
            for (int i = 0; i < size; i++) {
                w[i] = Math.fma(negLr, g[i], w[i]);
            }
            return;
        }
        boolean first = steps == 1;
        for (int i = 0; i < size; i++) {
            float d = weightDecay != 0 ? Math.fma(weightDecay, w[i], g[i]) : g[i];
            if (momentum != 0) {
                d = first ? d : Math.fma(1f, d, state[i] * momentum);
                state[i] = d;
            }
            w[i] = Math.fma(negLr, d, w[i]);
        }
    }
}
