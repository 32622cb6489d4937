package dev.seqspark.optim;

/**
 * torch.optim.Adam (not AMSGrad; weight decay as L2 added to the gradient, not AdamW). At step t:
 * g = g + wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p = p − lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε). State: m, then v.
 */
public final class Adam extends Optimizer {
    private final double lr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;

    public Adam(int size, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super(size, 2);
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("Adam eps must be positive, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be non-negative, got " + weightDecay);
        }
        this.lr = lr;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
    }

    /** Adam with PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8, no weight decay. */
    public Adam(int size, double lr) {
        this(size, lr, 0.9, 0.999, 1e-8, 0);
    }

    @Override
    protected void update(float[] w, float[] g) {
        float oneMinusB1 = 1f - beta1;
        float oneMinusB2 = 1f - beta2;
        double bc1 = 1 - Math.pow(beta1, steps);
        float bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, steps));
        float negStep = (float) (-lr / bc1);
        for (int i = 0; i < size; i++) {
            float gi = weightDecay != 0 ? Math.fma(weightDecay, w[i], g[i]) : g[i];
            float m = state[i] * beta1 + oneMinusB1 * gi;
            float v = state[size + i] * beta2 + oneMinusB2 * gi * gi;
            state[i] = m;
            state[size + i] = v;
            float denom = (float) Math.sqrt(v) / bc2Sqrt + eps;
            w[i] += negStep * (m / denom);
        }
    }
}
