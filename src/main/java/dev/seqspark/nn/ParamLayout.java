package dev.seqspark.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every tensor of a model lives in its one flat {@code float[]}: a PyTorch name
 * ({@code rnn.weight_ih_l0}), a PyTorch shape and an offset. Tensors are row-major and packed in the
 * order they were added. Weights, gradients and optimizer moments all share this layout, so averaging,
 * broadcasting, clipping and saving are operations on whole arrays.
 */
public final class ParamLayout {

    /** One named tensor: {@code size} floats starting at {@code offset}, row-major with {@code shape}. */
    public record TensorView(String name, int[] shape, int offset, int size) {
        public TensorView {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Rows of a matrix (the first dimension). */
        public int rows() {
            return shape[0];
        }

        /** Columns of a matrix (product of all dimensions after the first; 1 for a vector). */
        public int cols() {
            return shape.length == 1 ? 1 : size / shape[0];
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape) + "@" + offset;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorView t && t.name.equals(name) && Arrays.equals(t.shape, shape)
                    && t.offset == offset;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape) + offset;
        }
    }

    private final Map<String, TensorView> byName = new LinkedHashMap<>();
    private int size;

    /** Appends a tensor; the name must be new and every dimension positive. */
    public TensorView add(String name, int... shape) {
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        long n = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a non-positive dimension: "
                        + Arrays.toString(shape));
            }
            n *= d;
        }
        if (size + n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("model too large for one float[]: " + (size + n) + " parameters");
        }
        TensorView t = new TensorView(name, shape, size, (int) n);
        byName.put(name, t);
        size += (int) n;
        return t;
    }

    public TensorView get(String name) {
        TensorView t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named " + name + "; known: " + byName.keySet());
        }
        return t;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public List<TensorView> tensors() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }

    /** Total number of floats. */
    public int size() {
        return size;
    }
}
