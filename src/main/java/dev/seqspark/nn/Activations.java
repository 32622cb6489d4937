package dev.seqspark.nn;

/**
 * tanh and the logistic sigmoid in float32, for the cells' gate loops.
 *
 * <p>tanh(x) = x · P(s) / Q(s) with s = (x/9)², x clamped to [−9, 9] (tanh(9) is 1 in float32), and
 * σ(x) = ½·tanh(x/2) + ½. Only +, ×, ÷, min and max, so HotSpot compiles a loop of them to SIMD code:
 * about 0.7 ns per value against 6–9 ns through Math.exp on this machine, which made the gate
 * nonlinearities the largest cost after the matrix multiplies. Error: at most 3.6e-7 absolute and relative
 * for tanh, 2e-7 absolute for σ (a few float32 ulps; PyTorch's own vectorised kernels are 1–3 ulps), so
 * |tanh| may exceed 1 by up to 3.6e-7 (clamping the output would cost a third more time and buys nothing).
 * Coefficients and error bounds: tools/fit_tanh.py, a minimax fit; ActivationsTest holds the bounds.
 *
 * <p>These are the definitions; {@link Kernels} applies them to arrays (scalar, or the same operations in
 * SIMD lanes).
 */
public final class Activations {
    static final float CLAMP = 9f;
    static final float INV_CLAMP = 1f / 9f;
    static final float P0 = 1f;
    static final float P1 = 11.2210569f;
    static final float P2 = 26.839407f;
    static final float P3 = 17.4987392f;
    static final float P4 = 1.95905685f;
    static final float P5 = -0.109714806f;
    static final float P6 = 0.00718309125f;
    static final float Q0 = 1f;
    static final float Q1 = 38.2210579f;
    static final float Q2 = 184.00795f;
    static final float Q3 = 230.874969f;
    static final float Q4 = 71.6375961f;

    private Activations() {}

    public static float tanh(float x) {
        float c = Math.max(-CLAMP, Math.min(CLAMP, x));
        float t = c * INV_CLAMP;
        float s = t * t;
        float p = (((((P6 * s + P5) * s + P4) * s + P3) * s + P2) * s + P1) * s + P0;
        float q = (((Q4 * s + Q3) * s + Q2) * s + Q1) * s + Q0;
        return c * p / q;
    }

    static final float LOG2E = 1.44269504f;
    static final float ROUND = 12582912f;        // 1.5·2^23: x + ROUND rounds x to an integer in float
    static final float LN2_HI = 0.693359375f;    // ln 2 = LN2_HI + LN2_LO, LN2_HI exact in a few bits
    static final float LN2_LO = -2.12194440e-4f;
    static final float EXP_MIN = -87.3f;
    static final float EXP_MAX = 88.3f;
    static final float E0 = 5.0000001201e-1f;             // e^r ≈ 1 + r + r²·(E0 + E1·r + … + E5·r⁵), Cephes expf
    static final float E1 = 1.6666665459e-1f;
    static final float E2 = 4.1665795894e-2f;
    static final float E3 = 8.3334519073e-3f;
    static final float E4 = 1.3981999507e-3f;
    static final float E5 = 1.9875691500e-4f;

    /**
     * e^x in float32, for softmax: x = n·ln 2 + r with |r| ≤ ln2/2, e^r by a degree-7 polynomial (Cephes'
     * expf coefficients), 2^n put in the exponent bits. At most 1.4 ulp from the exact value (ActivationsTest),
     * for x in [−87.3, 88.3]; smaller x gives the smallest normal float's neighbourhood, larger x is clamped.
     */
    public static float exp(float x) {
        float c = Math.max(EXP_MIN, Math.min(EXP_MAX, x));
        float t = c * LOG2E + ROUND;
        int n = Float.floatToRawIntBits(t) - 0x4B400000;   // the integer nearest c·log2(e)
        float fn = t - ROUND;
        float r = c - fn * LN2_HI - fn * LN2_LO;
        float p = (((((E5 * r + E4) * r + E3) * r + E2) * r + E1) * r + E0) * (r * r) + r + 1f;
        return p * Float.intBitsToFloat((n + 127) << 23);
    }

    public static float sigmoid(float x) {
        return 0.5f * tanh(0.5f * x) + 0.5f;
    }
}
