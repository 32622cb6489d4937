package dev.seqspark.train;

/**
 * The driver's update after every round (a block of K batches on every worker): how the workers' models
 * θ_1 … θ_W become the next global model θ. Three rules:
 * <ul>
 *   <li><b>average</b>: θ ← mean_i θ_i, weighted by the batches each worker trained (model averaging).</li>
 *   <li><b>bmuf</b>: block momentum with Nesterov (K. Chen and Q. Huo, "Scalable training of deep learning
 *       machines by incremental block training with intra-block parallel optimization and blockwise
 *       model-update filtering", ICASSP 2016; CNTK's BlockMomentum learner). The workers start a block from
 *       s = θ − η·Δ; after it, with the block's mean displacement G = s − mean_i θ_i (batch-weighted),
 *       Δ ← η·Δ + ζ·G and θ ← θ − Δ. η is the block momentum, ζ the block learning rate; the published
 *       defaults η = 1 − 1/W, ζ = 1 make a block's step about W times a single worker's displacement, as
 *       one worker would have moved over the W·K batches the block trained. With η = 0 and ζ = 1 it is
 *       plain averaging, bit for bit.</li>
 *   <li><b>nesterov</b>: the outer optimizer of DiLoCo (A. Douillard et al., "DiLoCo: Distributed Low-Communication
 *       Training of Language Models", 2023): SGD with Nesterov momentum on the outer gradient G = θ − mean_i θ_i,
 *       the workers starting every block from θ itself: Δ ← μ·Δ + G, θ ← θ − λ·(G + μ·Δ), with μ the momentum
 *       and λ the outer learning rate (the paper's 0.9 and 0.7).</li>
 * </ul>
 * The optimizer's own state (SGD momentum, Adam's moments and step count) stays with each worker within an
 * epoch and is averaged at its end ({@link OptimizerSum}): the outer update acts on the weights only. Δ is part
 * of the training state ({@link ModelState#blockMomentum}), checkpointed with it, and every step is a pure
 * function of the round's inputs, so retried tasks and resumed runs give the same bits.
 */
public final class OuterUpdate implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    public enum Rule {
        AVERAGE("average"), BMUF("bmuf"), NESTEROV("nesterov");

        public final String id;

        Rule(String id) {
            this.id = id;
        }

        public static Rule fromId(String id) {
            for (Rule r : values()) {
                if (r.id.equals(id)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown outer update '" + id + "'; expected average, bmuf or nesterov");
        }
    }

    private final Rule rule;
    private final double momentum;
    private final double blockLr;

    private OuterUpdate(Rule rule, double momentum, double blockLr) {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("block momentum must be in [0, 1), got " + momentum);
        }
        if (!(blockLr > 0) || Double.isInfinite(blockLr)) {
            throw new IllegalArgumentException("block learning rate must be positive, got " + blockLr);
        }
        this.rule = rule;
        this.momentum = momentum;
        this.blockLr = blockLr;
    }

    /** DiLoCo's outer Nesterov step with momentum μ and outer learning rate λ. */
    public static OuterUpdate nesterov(double momentum, double lr) {
        return new OuterUpdate(Rule.NESTEROV, momentum, lr);
    }

    /** Plain batch-weighted model averaging. */
    public static OuterUpdate average() {
        return new OuterUpdate(Rule.AVERAGE, 0, 1);
    }

    /** BMUF with block momentum η and block learning rate ζ. */
    public static OuterUpdate bmuf(double momentum, double blockLr) {
        return new OuterUpdate(Rule.BMUF, momentum, blockLr);
    }

    /** The published default block momentum for W workers: η = 1 − 1/W (0 for one worker: plain averaging). */
    public static double defaultMomentum(int workers) {
        return 1.0 - 1.0 / Math.max(1, workers);
    }

    public Rule rule() {
        return rule;
    }

    public double momentum() {
        return momentum;
    }

    public double blockLr() {
        return blockLr;
    }

    /** Whether it is plain averaging: a round of one worker then changes nothing, bit for bit. */
    public boolean isAveraging() {
        return rule == Rule.AVERAGE || (momentum == 0 && blockLr == 1);
    }

    /**
     * The state the workers start a block from: BMUF's θ − η·Δ, else θ; without Δ itself (workers never need it).
     */
    public ModelState start(ModelState global) {
        float[] delta = global.blockMomentum();
        if (isAveraging() || delta.length == 0 || rule == Rule.NESTEROV) {
            return new ModelState(global.weights(), global.optimizerState(), global.optimizerSteps());
        }
        float[] theta = global.weights();
        float[] s = new float[theta.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (theta[i] - momentum * delta[i]);
        }
        return new ModelState(s, global.optimizerState(), global.optimizerSteps());
    }

    /**
     * The global state after a round whose workers started from {@link #start start(global)} and returned
     * {@code sum}; {@code global} itself when no worker trained a batch. Non-finite weights make
     * {@code sum.finite()} false, as a non-finite loss does.
     */
    public ModelState update(ModelState global, RoundSum sum) {
        return update(global, sum, start(global).weights(), false);
    }

    /**
     * As {@link #update(ModelState, RoundSum)}, for a round whose workers reported weights moved from {@code base}:
     * for a round on time ({@code late} false) {@code base} is {@link #start start(global)}'s weights, which the
     * caller made to start the round; for an overlapped round ({@link TrainingLoop}) it is the start of the state a
     * round before {@code global}: the round's mean move from {@code base} lands one round late, which averaging then
     * adds to {@code global}'s weights.
     */
    public ModelState update(ModelState global, RoundSum sum, float[] base, boolean late) {
        if (sum.batches() == 0 || (isAveraging() && !late)) {
            return sum.average(global);
        }
        double[] total = sum.weightSum();
        double batches = sum.batches();
        float[] theta = global.weights();
        if (isAveraging()) {
            float[] next = new float[theta.length];
            boolean finite = true;
            for (int i = 0; i < theta.length; i++) {
                next[i] = (float) (theta[i] + (total[i] / batches - base[i]));
                finite &= Float.isFinite(next[i]);
            }
            if (!finite) {
                sum.finite = false;
            }
            return new ModelState(next, global.optimizerState(), global.optimizerSteps(), global.blockMomentum());
        }
        float[] delta = global.blockMomentum().length == theta.length ? global.blockMomentum() : new float[theta.length];
        float[] s = base;
        float[] nextTheta = new float[theta.length];
        float[] nextDelta = new float[theta.length];
        boolean nesterov = rule == Rule.NESTEROV;
        boolean finite = true;
        for (int i = 0; i < theta.length; i++) {
            double g = s[i] - total[i] / batches;                  // the block's mean displacement, in double
            double d = momentum * delta[i] + (nesterov ? g : blockLr * g);
            nextDelta[i] = (float) d;
            nextTheta[i] = (float) (theta[i] - (nesterov ? blockLr * (g + momentum * d) : d));
            finite &= Float.isFinite(nextTheta[i]);
        }
        if (!finite) {
            sum.finite = false;
        }
        return new ModelState(nextTheta, global.optimizerState(), global.optimizerSteps(), nextDelta);
    }

    @Override
    public String toString() {
        return isAveraging() && rule == Rule.AVERAGE ? "average" : rule == Rule.NESTEROV
                ? "nesterov (momentum " + brief(momentum) + ", outer lr " + brief(blockLr) + ")"
                : "bmuf (block momentum " + brief(momentum) + ", block lr " + brief(blockLr) + ")";
    }

    private static String brief(double x) {
        return new java.math.BigDecimal(x).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
    }
}
