package dev.seqspark.nn;

import static dev.seqspark.nn.Activations.CLAMP;
import static dev.seqspark.nn.Activations.E0;
import static dev.seqspark.nn.Activations.E1;
import static dev.seqspark.nn.Activations.E2;
import static dev.seqspark.nn.Activations.E3;
import static dev.seqspark.nn.Activations.E4;
import static dev.seqspark.nn.Activations.E5;
import static dev.seqspark.nn.Activations.EXP_MAX;
import static dev.seqspark.nn.Activations.EXP_MIN;
import static dev.seqspark.nn.Activations.INV_CLAMP;
import static dev.seqspark.nn.Activations.LN2_HI;
import static dev.seqspark.nn.Activations.LN2_LO;
import static dev.seqspark.nn.Activations.LOG2E;
import static dev.seqspark.nn.Activations.P0;
import static dev.seqspark.nn.Activations.P1;
import static dev.seqspark.nn.Activations.P2;
import static dev.seqspark.nn.Activations.P3;
import static dev.seqspark.nn.Activations.P4;
import static dev.seqspark.nn.Activations.P5;
import static dev.seqspark.nn.Activations.P6;
import static dev.seqspark.nn.Activations.Q0;
import static dev.seqspark.nn.Activations.Q1;
import static dev.seqspark.nn.Activations.Q2;
import static dev.seqspark.nn.Activations.Q3;
import static dev.seqspark.nn.Activations.Q4;
import static dev.seqspark.nn.Activations.ROUND;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernels with the incubator Vector API, in the preferred species (512 bits on AVX-512: 16 floats per
 * operation). Each formula is {@link Activations}' and {@link ScalarKernels}' expression, operation for
 * operation, so the results are the same bits; the tail of a row shorter than a vector runs the scalar code.
 * Loaded only by {@link Kernels}, by name, when the module is readable.
 *
 * <p>Every vector loop is a method of its own that takes and returns arrays, never vectors, and a kernel that
 * runs several passes calls them in turn. C2 intrinsifies a vector operation only within the compilation unit
 * it has inlined: when its inlining budget runs out part-way through a large method (NodeCountInliningCutoff),
 * the vectors after the cut are boxed and every operation runs the Java fallback, allocating. A cut between two
 * methods that pass arrays costs a call and nothing else. The two largest bodies, tanh and expLanes, are kept out
 * of their callers altogether by conf/jvm.options (-XX:CompileCommand=dontinline): inlined, either could use up the
 * caller's budget (docs/benchmarks.md has the measurements).
 */
final class VectorKernels extends Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    // Constants: in the large fused kernels as vectors made once, since a scalar operand (x.mul(0.5f)) goes through
    // broadcast on every call and there C2 ran out of inlining budget before it reached all of them (each such
    // broadcast then allocated: float[] from FloatSpecies.broadcastBits in a profile). In the small loops (tanh,
    // the GRU's last pass) as scalars: there the vector constants left the loop's store to its Java fallback
    // (FloatVector.stOp in a scoring profile, 8% of its samples) and the scalars did not.
    private static final FloatVector V_ONE = FloatVector.broadcast(S, 1f);
    private static final FloatVector V_HALF = FloatVector.broadcast(S, 0.5f);
    private static final IntVector V_EXP_BIAS = IntVector.broadcast(IntVector.SPECIES_PREFERRED, 0x4B400000 - 127);
    private static final FloatVector V_LOG2E = FloatVector.broadcast(S, LOG2E);
    private static final FloatVector V_ROUND = FloatVector.broadcast(S, ROUND);
    private static final FloatVector V_LN2_HI = FloatVector.broadcast(S, LN2_HI);
    private static final FloatVector V_LN2_LO = FloatVector.broadcast(S, LN2_LO);
    private static final FloatVector V_EXP_MIN = FloatVector.broadcast(S, EXP_MIN);
    private static final FloatVector V_EXP_MAX = FloatVector.broadcast(S, EXP_MAX);
    private static final FloatVector V_E0 = FloatVector.broadcast(S, E0);
    private static final FloatVector V_E1 = FloatVector.broadcast(S, E1);
    private static final FloatVector V_E2 = FloatVector.broadcast(S, E2);
    private static final FloatVector V_E3 = FloatVector.broadcast(S, E3);
    private static final FloatVector V_E4 = FloatVector.broadcast(S, E4);
    private static final FloatVector V_E5 = FloatVector.broadcast(S, E5);
    private final ScalarKernels tail = new ScalarKernels(null);

    VectorKernels() {
        if (S.vectorBitSize() < 256) {
            throw new UnsupportedOperationException("the preferred vector species is " + S.vectorBitSize()
                    + " bits, narrower than 256");
        }
        if (LANES % L != 0) {
            throw new UnsupportedOperationException(L + " float lanes do not divide " + LANES);
        }
    }

    @Override
    public String describe() {
        return "vector (jdk.incubator.vector, " + S.vectorBitSize() + "-bit " + L + " floats)";
    }

    // ---- the activations, as Activations.tanh / sigmoid / exp, each formula written out in the one loop that runs it

    @Override
    public void tanh(float[] a, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector c = FloatVector.fromArray(S, a, i).min(CLAMP).max(-CLAMP);
            FloatVector t = c.mul(INV_CLAMP);
            FloatVector s = t.mul(t);
            FloatVector p = s.mul(P6).add(P5).mul(s).add(P4).mul(s).add(P3).mul(s).add(P2).mul(s).add(P1)
                    .mul(s).add(P0);
            FloatVector q = s.mul(Q4).add(Q3).mul(s).add(Q2).mul(s).add(Q1).mul(s).add(Q0);
            c.mul(p).div(q).intoArray(a, i);
        }
        tail.tanh(a, i, to);
    }

    /**
     * σ(x) = tanh(x·½)·½ + ½ as Activations.sigmoid, in three passes over the row so that tanh is written once; each
     * pass a method of its own (see the class comment).
     */
    @Override
    public void sigmoid(float[] a, int from, int to) {
        scale(a, from, to - from, 0.5f);
        tanh(a, from, to);
        halfPlusHalf(a, from, to);
    }

    /** a[i] = a[i]·½ + ½. */
    private static void halfPlusHalf(float[] a, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(S, a, i).mul(V_HALF).add(V_HALF).intoArray(a, i);
        }
        for (; i < to; i++) {
            a[i] = a[i] * 0.5f + 0.5f;
        }
    }

    @Override
    public void relu(float[] a, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(S, a, i).max(0f).intoArray(a, i);
        }
        tail.relu(a, i, to);
    }

    @Override
    public void tanhBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector h = FloatVector.fromArray(S, a, aOff + i);
            FloatVector.fromArray(S, dh, dhOff + i).mul(V_ONE.sub(h.mul(h))).intoArray(dgi, dgOff + i);
        }
        tail.tanhBackward(a, aOff + i, dh, dhOff + i, dgi, dgOff + i, n - i);
    }

    @Override
    public void reluBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n) {
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i + L <= n; i += L) {
            VectorMask<Float> on = FloatVector.fromArray(S, a, aOff + i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(S, dh, dhOff + i), on).intoArray(dgi, dgOff + i);
        }
        tail.reluBackward(a, aOff + i, dh, dhOff + i, dgi, dgOff + i, n - i);
    }

    // ---- GRU

    // Forward updates run as ScalarKernels' passes, each a simple vector loop: one fused loop per row, with three
    // activations' worth of live vectors, measured 2.4x slower (8.2 against 3.4 ns per hidden unit of a GRU). Written
    // inline, the passes after sigmoid and tanh ran boxed wherever C2 cut its inlining there (see the class comment):
    // gigabytes of float[] and vector objects an epoch in an allocation profile.

    @Override
    public void gruForward(int batch, int hidden, float[] act, int aOff, float[] rh, float[] ghn, int sOff,
                           float[] h, int hPrev, int hOut) {
        if (hidden % L != 0) {
            tail.gruForward(batch, hidden, act, aOff, rh, ghn, sOff, h, hPrev, hOut);
            return;
        }
        int gw = 3 * hidden;
        for (int b = 0; b < batch; b++) {
            int r = aOff + b * gw;
            int z = r + hidden;
            int n = z + hidden;
            int q = b * gw;
            addTo(act, r, rh, q, 2 * hidden);
            sigmoid(act, r, n);
            gruCandidate(act, r, n, rh, q + 2 * hidden, ghn, sOff + b * hidden, hidden);
            tanh(act, n, n + hidden);
            gruBlend(act, z, n, h, hPrev + b * hidden, hOut + b * hidden, hidden);
        }
    }

    /** a[at .. at + len) += x[xAt ..]: the gates' input and hidden parts summed. */
    private static void addTo(float[] a, int at, float[] x, int xAt, int len) {
        for (int j = 0; j < len; j += L) {
            FloatVector.fromArray(S, a, at + j).add(FloatVector.fromArray(S, x, xAt + j)).intoArray(a, at + j);
        }
    }

    /** The candidate's pre-activation n += r ⊙ (W_hn h + b_hn), that last term kept in ghn for the backward. */
    private static void gruCandidate(float[] act, int r, int n, float[] rh, int g, float[] ghn, int s, int hidden) {
        for (int j = 0; j < hidden; j += L) {
            FloatVector gj = FloatVector.fromArray(S, rh, g + j);
            gj.intoArray(ghn, s + j);
            FloatVector.fromArray(S, act, n + j).add(FloatVector.fromArray(S, act, r + j).mul(gj)).intoArray(act, n + j);
        }
    }

    /** h' = (1 − z) ⊙ n + z ⊙ h. */
    private static void gruBlend(float[] act, int z, int n, float[] h, int hp, int ho, int hidden) {
        for (int j = 0; j < hidden; j += L) {
            FloatVector zj = FloatVector.fromArray(S, act, z + j);
            zj.neg().add(1f).mul(FloatVector.fromArray(S, act, n + j)).add(zj.mul(FloatVector.fromArray(S, h, hp + j)))
                    .intoArray(h, ho + j);
        }
    }

    @Override
    public void gruBackward(int batch, int hidden, float[] act, int aOff, float[] ghn, int sOff,
                            float[] h, int hPrev, float[] dh, float[] dhPrev, float[] dgi, float[] dgh, int dgOff) {
        if (hidden % L != 0) {
            tail.gruBackward(batch, hidden, act, aOff, ghn, sOff, h, hPrev, dh, dhPrev, dgi, dgh, dgOff);
            return;
        }
        int gw = 3 * hidden;
        for (int b = 0; b < batch; b++) {
            int row = b * hidden;
            int ar = aOff + b * gw;
            int dr = dgOff + b * gw;
            int s = sOff + row;
            int hp = hPrev + row;
            for (int j = 0; j < hidden; j += L) {
                FloatVector g = FloatVector.fromArray(S, dh, row + j);
                FloatVector r = FloatVector.fromArray(S, act, ar + j);
                FloatVector z = FloatVector.fromArray(S, act, ar + hidden + j);
                FloatVector n = FloatVector.fromArray(S, act, ar + 2 * hidden + j);
                FloatVector dn = g.mul(V_ONE.sub(z)).mul(V_ONE.sub(n.mul(n)));
                FloatVector drj = dn.mul(FloatVector.fromArray(S, ghn, s + j)).mul(r).mul(V_ONE.sub(r));
                FloatVector dzj = g.mul(FloatVector.fromArray(S, h, hp + j).sub(n)).mul(z).mul(V_ONE.sub(z));
                drj.intoArray(dgi, dr + j);
                dzj.intoArray(dgi, dr + hidden + j);
                dn.intoArray(dgi, dr + 2 * hidden + j);
                drj.intoArray(dgh, dr + j);
                dzj.intoArray(dgh, dr + hidden + j);
                dn.mul(r).intoArray(dgh, dr + 2 * hidden + j);
                g.mul(z).intoArray(dhPrev, row + j);
            }
        }
    }

    // ---- LSTM

    @Override
    public void lstmForward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                            float[] h, float[] c, int prev, int out) {
        if (hidden % L != 0) {
            tail.lstmForward(batch, hidden, act, aOff, tc, sOff, h, c, prev, out);
            return;
        }
        int gw = 4 * hidden;
        for (int b = 0; b < batch; b++) {
            int i = aOff + b * gw;
            int f = i + hidden;
            int g = f + hidden;
            int o = g + hidden;
            int row = b * hidden;
            sigmoid(act, i, g);
            tanh(act, g, o);
            sigmoid(act, o, o + hidden);
            lstmCellState(hidden, act, i, f, g, c, prev + row, out + row, tc, sOff + row);
            tanh(tc, sOff + row, sOff + row + hidden);
            multiply(hidden, act, o, tc, sOff + row, h, out + row);
        }
    }

    // The loops of lstmForward as methods of their own: inlined into one large method, C2 ran out of inlining
    // budget and left some vector operations as calls to their Java fallbacks (seen in a profile).

    /** c_out = f ⊙ c_prev + i ⊙ g, also into tc. */
    private static void lstmCellState(int hidden, float[] act, int i, int f, int g, float[] c, int prev, int out,
                                      float[] tc, int t) {
        for (int j = 0; j < hidden; j += L) {
            FloatVector cj = FloatVector.fromArray(S, act, f + j).mul(FloatVector.fromArray(S, c, prev + j))
                    .add(FloatVector.fromArray(S, act, i + j).mul(FloatVector.fromArray(S, act, g + j)));
            cj.intoArray(c, out + j);
            cj.intoArray(tc, t + j);
        }
    }

    /** out[o + j] = x[xOff + j] · y[yOff + j] for j in [0, n). */
    private static void multiply(int n, float[] x, int xOff, float[] y, int yOff, float[] out, int o) {
        for (int j = 0; j < n; j += L) {
            FloatVector.fromArray(S, x, xOff + j).mul(FloatVector.fromArray(S, y, yOff + j)).intoArray(out, o + j);
        }
    }

    @Override
    public void lstmBackward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                             float[] c, int prev, float[] dh, float[] dc, float[] dgi, int dgOff) {
        if (hidden % L != 0) {
            tail.lstmBackward(batch, hidden, act, aOff, tc, sOff, c, prev, dh, dc, dgi, dgOff);
            return;
        }
        int gw = 4 * hidden;
        for (int b = 0; b < batch; b++) {
            int row = b * hidden;
            int a = aOff + b * gw;
            int d = dgOff + b * gw;
            for (int j = 0; j < hidden; j += L) {
                FloatVector i = FloatVector.fromArray(S, act, a + j);
                FloatVector f = FloatVector.fromArray(S, act, a + hidden + j);
                FloatVector g = FloatVector.fromArray(S, act, a + 2 * hidden + j);
                FloatVector o = FloatVector.fromArray(S, act, a + 3 * hidden + j);
                FloatVector t = FloatVector.fromArray(S, tc, sOff + row + j);
                FloatVector gh = FloatVector.fromArray(S, dh, row + j);
                FloatVector dct = FloatVector.fromArray(S, dc, row + j).add(gh.mul(o).mul(V_ONE.sub(t.mul(t))));
                dct.mul(g).mul(i).mul(V_ONE.sub(i)).intoArray(dgi, d + j);
                dct.mul(FloatVector.fromArray(S, c, prev + row + j)).mul(f).mul(V_ONE.sub(f)).intoArray(dgi, d + hidden + j);
                dct.mul(i).mul(V_ONE.sub(g.mul(g))).intoArray(dgi, d + 2 * hidden + j);
                gh.mul(t).mul(o).mul(V_ONE.sub(o)).intoArray(dgi, d + 3 * hidden + j);
                dct.mul(f).intoArray(dc, row + j);
            }
        }
    }

    // ---- softmax

    @Override
    public float max(float[] x, int off, int n) {
        int j = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; j + L <= n; j += L) {
                acc = acc.max(FloatVector.fromArray(S, x, off + j));
            }
            m = acc.reduceLanes(VectorOperators.MAX);   // max is exact in any order
        }
        for (; j < n; j++) {
            m = Math.max(m, x[off + j]);
        }
        return m;
    }

    @Override
    public double expShifted(float[] x, int off, int n, float shift, float[] out) {
        // The partial sums exactly as ScalarKernels keeps them: element j into sum j mod LANES, flushed into
        // double sums every BLOCK elements.
        Sums sums = SUMS.get().clear();
        float[] part = sums.part;
        double[] whole = sums.whole;
        int j = 0;
        while (j < n) {
            int blockEnd = Math.min(n, j + BLOCK);
            expLanes(x, off, j, blockEnd, shift, out, part);
            j += (blockEnd - j) / LANES * LANES;
            for (; j < blockEnd; j++) {
                float e = Activations.exp(x[off + j] - shift);
                if (out != null) {
                    out[off + j] = e;
                }
                part[j & (LANES - 1)] += e;
            }
            flush(part, whole);
        }
        return sumInOrder(whole);
    }

    /**
     * The vector part of one block of expShifted: the LANES partial sums of exp(x − shift) over whole LANES-wide
     * steps from j, into part (and each exp into out, when given). A method of its own (see the class comment):
     * inline, it ran boxed behind the scalar tail's exp.
     */
    private static void expLanes(float[] x, int off, int j, int blockEnd, float shift, float[] out, float[] part) {
        for (int v = 0; v < LANES; v += L) {   // the LANES sums, L at a time (one vector at 512 bits, two at 256)
            FloatVector acc = FloatVector.zero(S);
            for (int i = j + v; i + L <= blockEnd && i - v + LANES <= blockEnd; i += LANES) {
                FloatVector c = FloatVector.fromArray(S, x, off + i).sub(shift).min(V_EXP_MAX).max(V_EXP_MIN);
                FloatVector t = c.mul(V_LOG2E).add(V_ROUND);
                FloatVector fn = t.sub(V_ROUND);
                FloatVector r = c.sub(fn.mul(V_LN2_HI)).sub(fn.mul(V_LN2_LO));
                FloatVector scale = t.reinterpretAsInts().sub(V_EXP_BIAS).lanewise(VectorOperators.LSHL, 23)
                        .reinterpretAsFloats();
                FloatVector e = r.mul(V_E5).add(V_E4).mul(r).add(V_E3).mul(r).add(V_E2).mul(r).add(V_E1).mul(r)
                        .add(V_E0).mul(r.mul(r)).add(r).add(V_ONE).mul(scale);   // Activations.exp
                if (out != null) {
                    e.intoArray(out, off + i);
                }
                acc = acc.add(e);
            }
            acc.intoArray(part, v);
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector.fromArray(S, x, off + j).mul(s).intoArray(x, off + j);
        }
        for (; j < n; j++) {
            x[off + j] *= s;
        }
    }
}
