package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Central finite differences against backward, for what the PyTorch golden data cannot cover (dropout
 * between layers, with its mask reproduced by reseeding) and as an independent check of the rest.
 * Loss = Σ output·A + Σ h_n·B (+ Σ c_n·C) with fixed random A, B, C, summed in double. With ε = 1e-2 in
 * float32 the difference quotient carries about 1e-4 rounding noise, so each of the 40 sampled
 * coordinates must agree within 2e-3 + 1e-2·|gradient|; a wrong or missing term is far larger than that.
 * Where a ReLU kink lies within ±ε (the one-sided slopes disagree), a one-sided slope must agree instead.
 */
class RecurrentGradientCheckTest {
    private static final float EPS = 1e-2f;

    @ParameterizedTest(name = "{0} layers={1} bidir={2} bias={3} batchFirst={4} dropout={5} lengths={6}")
    @CsvSource({
        "rnn_tanh, 2, true, true, false, 0.5, true",
        "rnn_relu, 2, false, true, true, 0.3, false",
        "gru, 2, true, true, true, 0.5, true",
        "gru, 1, false, false, false, 0.0, true",
        "lstm, 2, true, true, false, 0.4, true",
        "lstm, 3, false, false, true, 0.2, false",
    })
    void backwardMatchesFiniteDifferences(String cell, int layers, boolean bidir, boolean bias, boolean batchFirst,
                                          double dropout, boolean varLengths) {
        int in = 3, hidden = 5, steps = 6, batch = 4;
        RecurrentConfig cfg = new RecurrentConfig(CellType.fromId(cell), in, hidden, layers, bias, dropout, bidir,
                batchFirst);
        ParamLayout layout = new ParamLayout();
        cfg.declare(layout, "rnn.");
        Params p = new Params(layout);
        SplittableRandom rng = new SplittableRandom(7);
        cfg.init(p, "rnn.", rng);
        float[] x = uniform(rng, steps * batch * in);
        int stateSize = layers * cfg.directions() * batch * hidden;
        float[] h0 = uniform(rng, stateSize);
        float[] c0 = cfg.cell().hasCellState() ? uniform(rng, stateSize) : null;
        float[] a = uniform(rng, steps * batch * cfg.outputSize());
        float[] bw = uniform(rng, stateSize);
        float[] cw = uniform(rng, stateSize);
        int[] lengths = varLengths ? new int[] {6, 2, 5, 3} : null;
        Recurrent rnn = new Recurrent(cfg, p, "rnn.");

        rnn.forward(x, steps, batch, lengths, h0, c0, new SplittableRandom(99));
        p.zeroGrads();
        Recurrent.InputGrads g = rnn.backward(a, bw, c0 == null ? null : cw);
        float[] dX = g.dInput().clone();
        float[] dH0 = g.dH0().clone();
        float[] dC0 = g.dC0() == null ? null : g.dC0().clone();
        float[] grads = p.grads.clone();

        java.util.function.DoubleSupplier loss = () -> {
            Recurrent.Output o = rnn.forward(x, steps, batch, lengths, h0, c0, new SplittableRandom(99));
            return dot(o.output(), a) + dot(o.hN(), bw) + (o.cN() == null ? 0 : dot(o.cN(), cw));
        };
        SplittableRandom pick = new SplittableRandom(3);
        for (int s = 0; s < 40; s++) {
            int i = pick.nextInt(p.values.length);
            check("weight " + i, p.values, i, grads[i], loss);
        }
        for (int s = 0; s < 10; s++) {
            int i = pick.nextInt(x.length);
            check("input " + i, x, i, dX[i], loss);
            int j = pick.nextInt(h0.length);
            check("h0 " + j, h0, j, dH0[j], loss);
            if (c0 != null) {
                check("c0 " + j, c0, j, dC0[j], loss);
            }
        }
    }

    static void check(String what, float[] v, int i, float analytic, java.util.function.DoubleSupplier loss) {
        float keep = v[i];
        double mid = loss.getAsDouble();
        v[i] = keep + EPS;
        double up = loss.getAsDouble();
        v[i] = keep - EPS;
        double down = loss.getAsDouble();
        v[i] = keep;
        double numeric = (up - down) / (2 * EPS);
        double allowed = 2e-3 + 1e-2 * Math.abs(analytic);
        double right = (up - mid) / EPS;
        double left = (mid - down) / EPS;
        // A ReLU kink inside ±ε makes the two one-sided slopes disagree; then the gradient at the point
        // itself is the slope on the kink-free side.
        boolean kink = Math.abs(right - left) > 10 * allowed;
        boolean oneSided = Math.abs(right - analytic) <= allowed || Math.abs(left - analytic) <= allowed;
        assertTrue(Math.abs(numeric - analytic) <= allowed || (kink && oneSided),
                what + ": backward " + analytic + ", finite difference " + numeric
                        + " (one-sided: " + right + ", " + left + ")");
    }

    static float[] uniform(SplittableRandom rng, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return out;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < b.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
