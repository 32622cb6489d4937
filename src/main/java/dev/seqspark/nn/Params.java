package dev.seqspark.nn;

import java.util.Arrays;

/**
 * A model's weights and their gradients: two flat {@code float[]} of the same {@link ParamLayout}.
 * Layers hold offsets into these arrays, never copies, so replacing the weights (a broadcast, a
 * checkpoint) is one {@code System.arraycopy} into {@link #values}.
 */
public final class Params {
    public final ParamLayout layout;
    public final float[] values;
    public final float[] grads;

    public Params(ParamLayout layout) {
        this.layout = layout;
        this.values = new float[layout.size()];
        this.grads = new float[layout.size()];
    }

    /** Params of {@code layout} holding a copy of {@code values} (zero gradients). */
    public static Params of(ParamLayout layout, float[] values) {
        Params p = new Params(layout);
        p.setValues(values);
        return p;
    }

    public void zeroGrads() {
        Arrays.fill(grads, 0f);
    }

    /** Overwrites all weights with {@code src} (same layout). */
    public void setValues(float[] src) {
        if (src.length != values.length) {
            throw new IllegalArgumentException("expected " + values.length + " weights, got " + src.length);
        }
        System.arraycopy(src, 0, values, 0, src.length);
    }

    /** A copy of one tensor's weights. */
    public float[] get(String name) {
        ParamLayout.TensorView t = layout.get(name);
        return Arrays.copyOfRange(values, t.offset(), t.offset() + t.size());
    }

    /** A copy of one tensor's gradient. */
    public float[] grad(String name) {
        ParamLayout.TensorView t = layout.get(name);
        return Arrays.copyOfRange(grads, t.offset(), t.offset() + t.size());
    }

    /** Sets one tensor's weights (row-major, its full size). */
    public void set(String name, float[] data) {
        ParamLayout.TensorView t = layout.get(name);
        if (data.length != t.size()) {
            throw new IllegalArgumentException("tensor " + name + " has " + t.size() + " values, got " + data.length);
        }
        System.arraycopy(data, 0, values, t.offset(), t.size());
    }
}
