package dev.seqspark.nn;

import static dev.seqspark.nn.Activations.exp;

/**
 * The kernels in plain Java, the default: one loop per formula. HotSpot (JDK 17) turns a loop into SIMD code
 * only when all its array accesses share one index, which the in-place activations satisfy and the fused cell
 * updates do not; {@link VectorKernels} does those explicitly.
 */
final class ScalarKernels extends Kernels {
    private final String why;

    ScalarKernels(String why) {
        this.why = why;
    }

    @Override
    public String describe() {
        return "scalar" + (why == null ? "" : " (" + why + ")");
    }

    @Override
    public void tanh(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] = Activations.tanh(a[i]);
        }
    }

    @Override
    public void sigmoid(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] = Activations.sigmoid(a[i]);
        }
    }

    @Override
    public void relu(float[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            a[i] = Math.max(0f, a[i]);
        }
    }

    @Override
    public void tanhBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n) {
        for (int i = 0; i < n; i++) {
            float h = a[aOff + i];
            dgi[dgOff + i] = dh[dhOff + i] * (1f - h * h);
        }
    }

    @Override
    public void reluBackward(float[] a, int aOff, float[] dh, int dhOff, float[] dgi, int dgOff, int n) {
        for (int i = 0; i < n; i++) {
            dgi[dgOff + i] = a[aOff + i] > 0f ? dh[dhOff + i] : 0f;
        }
    }

    // The cell updates run as short passes over a row, each loop with one index into each array, so that HotSpot
    // turns the activation passes into SIMD code; VectorKernels runs the same passes with explicit vectors (a
    // single fused loop per row was measured 2x slower there too: too many live values per lane).

    @Override
    public void gruForward(int batch, int hidden, float[] act, int aOff, float[] rh, float[] ghn, int sOff,
                           float[] h, int hPrev, int hOut) {
        int gw = 3 * hidden;
        for (int b = 0; b < batch; b++) {
            int r = aOff + b * gw;
            int z = r + hidden;
            int n = z + hidden;
            int q = b * gw;
            int s = sOff + b * hidden;
            int hp = hPrev + b * hidden;
            int ho = hOut + b * hidden;
            for (int j = 0; j < 2 * hidden; j++) {
                act[r + j] += rh[q + j];
            }
            sigmoid(act, r, n);
            for (int j = 0; j < hidden; j++) {
                float g = rh[q + 2 * hidden + j];
                ghn[s + j] = g;
                act[n + j] += act[r + j] * g;
            }
            tanh(act, n, n + hidden);
            for (int j = 0; j < hidden; j++) {
                float zj = act[z + j];
                h[ho + j] = (1f - zj) * act[n + j] + zj * h[hp + j];
            }
        }
    }

    @Override
    public void gruBackward(int batch, int hidden, float[] act, int aOff, float[] ghn, int sOff,
                            float[] h, int hPrev, float[] dh, float[] dhPrev, float[] dgi, float[] dgh, int dgOff) {
        int gw = 3 * hidden;
        for (int b = 0; b < batch; b++) {
            int row = b * hidden;
            int ar = aOff + b * gw;
            int dr = dgOff + b * gw;
            int s = sOff + row;
            int hp = hPrev + row;
            for (int j = 0; j < hidden; j++) {
                float g = dh[row + j];
                float r = act[ar + j];
                float z = act[ar + hidden + j];
                float n = act[ar + 2 * hidden + j];
                float dn = g * (1f - z) * (1f - n * n);
                float drj = dn * ghn[s + j] * r * (1f - r);
                float dzj = g * (h[hp + j] - n) * z * (1f - z);
                dgi[dr + j] = drj;
                dgi[dr + hidden + j] = dzj;
                dgi[dr + 2 * hidden + j] = dn;
                // The recurrent side of r and z has the same gradient as the input side; n's is r ⊙ dn.
                dgh[dr + j] = drj;
                dgh[dr + hidden + j] = dzj;
                dgh[dr + 2 * hidden + j] = dn * r;
                dhPrev[row + j] = g * z;
            }
        }
    }

    @Override
    public void lstmForward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                            float[] h, float[] c, int prev, int out) {
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
            for (int j = 0; j < hidden; j++) {
                float cj = act[f + j] * c[prev + row + j] + act[i + j] * act[g + j];
                c[out + row + j] = cj;
                tc[sOff + row + j] = cj;
            }
            tanh(tc, sOff + row, sOff + row + hidden);
            for (int j = 0; j < hidden; j++) {
                h[out + row + j] = act[o + j] * tc[sOff + row + j];
            }
        }
    }

    @Override
    public void lstmBackward(int batch, int hidden, float[] act, int aOff, float[] tc, int sOff,
                             float[] c, int prev, float[] dh, float[] dc, float[] dgi, int dgOff) {
        int gw = 4 * hidden;
        for (int b = 0; b < batch; b++) {
            int row = b * hidden;
            int a = aOff + b * gw;
            int d = dgOff + b * gw;
            for (int j = 0; j < hidden; j++) {
                float i = act[a + j];
                float f = act[a + hidden + j];
                float g = act[a + 2 * hidden + j];
                float o = act[a + 3 * hidden + j];
                float t = tc[sOff + row + j];
                float gh = dh[row + j];
                float dct = dc[row + j] + gh * o * (1f - t * t);
                dgi[d + j] = dct * g * i * (1f - i);
                dgi[d + hidden + j] = dct * c[prev + row + j] * f * (1f - f);
                dgi[d + 2 * hidden + j] = dct * i * (1f - g * g);
                dgi[d + 3 * hidden + j] = gh * t * o * (1f - o);
                dc[row + j] = dct * f;
            }
        }
    }

    @Override
    public float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = off; j < off + n; j++) {
            m = Math.max(m, x[j]);
        }
        return m;
    }

    @Override
    public double expShifted(float[] x, int off, int n, float shift, float[] out) {
        // LANES float partial sums (element j into sum j mod LANES), each added into a double one every BLOCK
        // elements: the error stays near float32's own for any row width (one running float sum loses digits
        // over a 30,000-word vocabulary), and VectorKernels adds in exactly this order.
        Sums sums = SUMS.get().clear();
        float[] part = sums.part;
        double[] whole = sums.whole;
        for (int j = 0; j < n; j++) {
            float e = exp(x[off + j] - shift);
            if (out != null) {
                out[off + j] = e;
            }
            part[j & (LANES - 1)] += e;
            if ((j + 1) % BLOCK == 0) {
                flush(part, whole);
            }
        }
        flush(part, whole);
        return sumInOrder(whole);
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        for (int j = off; j < off + n; j++) {
            x[j] *= s;
        }
    }
}
