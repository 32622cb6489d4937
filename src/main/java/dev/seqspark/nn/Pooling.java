package dev.seqspark.nn;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a sequence classifier turns the top recurrent block's states into one vector per record, over each
 * record's valid steps only (as after PyTorch's pack_padded_sequence: padding never enters a state):
 * <ul>
 *   <li>{@code last}: the state at the record's last valid step, for a bidirectional block the forward
 *       direction's last step and the reverse direction's state after t = 0, concatenated [forward, reverse]
 *       — the top layer's slices of {@code h_n}, {@code torch.cat([h_n[-2], h_n[-1]], 1)};</li>
 *   <li>{@code mean}: the mean of the output over the valid steps, {@code out[:len].mean(0)};</li>
 *   <li>{@code max}: the elementwise maximum over the valid steps, {@code out[:len].max(0).values}; the
 *       gradient goes to the step the maximum came from (the first such step on a tie).</li>
 * </ul>
 * A record of length 0 pools to zeros (it never reaches the trainers, which skip empty records).
 *
 * <p>Shapes (T steps, B records, D directions, H hidden, L layers of the top block): output (T·B, D·H)
 * time-major, row t·B + b; h_n (L·D, B, H); pooled (B, D·H). No allocation: the caller owns every buffer.
 */
public enum Pooling {
    LAST("last"), MEAN("mean"), MAX("max");

    /** The name used in configs and model files. */
    public final String id;

    Pooling(String id) {
        this.id = id;
    }

    public static Pooling fromId(String id) {
        String key = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
        for (Pooling p : values()) {
            if (p.id.equals(key)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown pooling '" + id + "'; expected one of "
                + Arrays.stream(values()).map(p -> p.id).toList());
    }

    /** Whether backward goes through the output ({@code mean}, {@code max}) rather than through h_n ({@code last}). */
    public boolean usesOutput() {
        return this != LAST;
    }

    /**
     * pooled (B, D·H) from the top block's {@code output} and {@code hN}; {@code argmax} (B·D·H, for
     * {@code max} only) receives the step each maximum came from, for {@link #backward}.
     */
    public void forward(float[] output, float[] hN, int steps, int batch, int dirs, int hidden, int layers,
                        int[] lengths, float[] pooled, int[] argmax) {
        int w = dirs * hidden;
        switch (this) {
            case LAST -> {
                for (int d = 0; d < dirs; d++) {
                    int block = ((layers - 1) * dirs + d) * batch * hidden;
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(hN, block + b * hidden, pooled, b * w + d * hidden, hidden);
                    }
                }
            }
            case MEAN -> {
                for (int b = 0; b < batch; b++) {
                    int len = lengths[b];
                    int o = b * w;
                    for (int k = 0; k < w; k++) {
                        double s = 0;
                        for (int t = 0; t < len; t++) {
                            s += output[(t * batch + b) * w + k];
                        }
                        pooled[o + k] = len == 0 ? 0f : (float) (s / len);
                    }
                }
            }
            case MAX -> {
                for (int b = 0; b < batch; b++) {
                    int len = lengths[b];
                    int o = b * w;
                    if (len == 0) {
                        Arrays.fill(pooled, o, o + w, 0f);
                        Arrays.fill(argmax, o, o + w, -1);
                        continue;
                    }
                    System.arraycopy(output, b * w, pooled, o, w);
                    Arrays.fill(argmax, o, o + w, 0);
                    for (int t = 1; t < len; t++) {
                        int row = (t * batch + b) * w;
                        for (int k = 0; k < w; k++) {
                            float v = output[row + k];
                            if (v > pooled[o + k]) {
                                pooled[o + k] = v;
                                argmax[o + k] = t;
                            }
                        }
                    }
                }
            }
            default -> throw new AssertionError(this);
        }
    }

    /**
     * Given dL/d(pooled) (B, D·H): for {@code last}, writes dL/d(h_n) into {@code dHn} (L·D·B·H, zeros but the top
     * layer's slices); for {@code mean} and {@code max}, writes dL/d(output) into {@code dOutput} (T·B·D·H, zeros
     * at padded steps). The other array is not touched.
     */
    public void backward(float[] dPooled, int steps, int batch, int dirs, int hidden, int layers, int[] lengths,
                         int[] argmax, float[] dOutput, float[] dHn) {
        int w = dirs * hidden;
        switch (this) {
            case LAST -> {
                Arrays.fill(dHn, 0, layers * dirs * batch * hidden, 0f);
                for (int d = 0; d < dirs; d++) {
                    int block = ((layers - 1) * dirs + d) * batch * hidden;
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(dPooled, b * w + d * hidden, dHn, block + b * hidden, hidden);
                    }
                }
            }
            case MEAN -> {
                Arrays.fill(dOutput, 0, steps * batch * w, 0f);
                for (int b = 0; b < batch; b++) {
                    int len = lengths[b];
                    if (len == 0) {
                        continue;
                    }
                    float inv = 1f / len;
                    for (int t = 0; t < len; t++) {
                        int row = (t * batch + b) * w;
                        for (int k = 0; k < w; k++) {
                            dOutput[row + k] = dPooled[b * w + k] * inv;
                        }
                    }
                }
            }
            case MAX -> {
                Arrays.fill(dOutput, 0, steps * batch * w, 0f);
                for (int b = 0; b < batch; b++) {
                    for (int k = 0; k < w; k++) {
                        int t = argmax[b * w + k];
                        if (t >= 0) {
                            dOutput[(t * batch + b) * w + k] += dPooled[b * w + k];
                        }
                    }
                }
            }
            default -> throw new AssertionError(this);
        }
    }
}
