package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The rational tanh and σ against Math.tanh and 1/(1+e^−x) over a dense grid and the extremes. */
class ActivationsTest {

    @Test
    void tanhWithinBound() {
        double worstAbs = 0;
        double worstRel = 0;
        for (int i = -2_000_000; i <= 2_000_000; i++) {
            float x = i * 1e-5f;   // [-20, 20]
            double truth = Math.tanh(x);
            double err = Math.abs(Activations.tanh(x) - truth);
            worstAbs = Math.max(worstAbs, err);
            if (truth != 0) {
                worstRel = Math.max(worstRel, err / Math.abs(truth));
            }
        }
        assertTrue(worstAbs <= 3.6e-7, "max |error| " + worstAbs);
        assertTrue(worstRel <= 3.6e-7, "max relative error " + worstRel);
        for (float tiny : new float[] {1e-30f, 1e-10f, -3e-8f}) {
            assertEquals(tiny, Activations.tanh(tiny), Math.abs(tiny) * 1e-6);
        }
        assertEquals(1f, Activations.tanh(1e30f), 3.6e-7f);
        assertEquals(-1f, Activations.tanh(Float.NEGATIVE_INFINITY), 3.6e-7f);
        assertTrue(Float.isNaN(Activations.tanh(Float.NaN)));
    }

    @Test
    void sigmoidWithinBound() {
        double worst = 0;
        for (int i = -4_000_000; i <= 4_000_000; i++) {
            float x = i * 1e-5f;   // [-40, 40]
            worst = Math.max(worst, Math.abs(Activations.sigmoid(x) - 1 / (1 + Math.exp(-x))));
        }
        assertTrue(worst <= 2e-7, "max |error| " + worst);
        assertEquals(0.5f, Activations.sigmoid(0f));
    }

    @Test
    void expWithinOneAndAHalfUlps() {
        double worst = 0;
        for (int i = -8_730_000; i <= 8_830_000; i++) {
            float x = i * 1e-5f;   // [-87.3, 88.3]
            double truth = Math.exp(x);
            worst = Math.max(worst, Math.abs(Activations.exp(x) - truth) / truth);
        }
        assertTrue(worst <= 1.5 * 0x1p-24, "max relative error " + worst + " = " + worst / 0x1p-24 + " half-ulps");
        assertEquals(1f, Activations.exp(0f));
        assertTrue(Activations.exp(-1000f) < 1e-37f && Activations.exp(-1000f) >= 0f, "underflow stays tiny");
        assertTrue(Float.isNaN(Activations.exp(Float.NaN)));
    }
}
