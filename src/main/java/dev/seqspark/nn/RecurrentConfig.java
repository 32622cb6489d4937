package dev.seqspark.nn;

import java.util.SplittableRandom;

/**
 * The shape of a stacked recurrent layer, as torch.nn.RNN / GRU / LSTM take it, and how its weights are
 * named and initialised. The computation is {@link Recurrent}.
 *
 * <ul>
 *   <li>{@code cell}: rnn_tanh, rnn_relu, gru or lstm.</li>
 *   <li>{@code inputSize}: features per step of the input (the vocabulary size for one-hot input).</li>
 *   <li>{@code hiddenSize}: features of h (and c).</li>
 *   <li>{@code numLayers}: stacked layers; layer k &gt; 0 reads layer k−1's output (directions × hidden wide).</li>
 *   <li>{@code bias}: with b_ih and b_hh, or without.</li>
 *   <li>{@code dropout}: probability of zeroing each output of every layer but the last, in training only
 *       (survivors scaled by 1/(1−p)); in [0, 1).</li>
 *   <li>{@code bidirectional}: a second direction per layer reads the sequence backwards (names end
 *       in {@code _reverse}); outputs are [forward, backward] concatenated.</li>
 *   <li>{@code batchFirst}: input and output are (batch, seq, feature) instead of (seq, batch, feature);
 *       h0, h_n, c0, c_n are always (layers·directions, batch, hidden).</li>
 * </ul>
 * Parameters (G = 1, 3, 4 gate blocks for RNN, GRU, LSTM; H = hidden; D = directions):
 * {@code weight_ih_l{k}} (G·H, input_size for k = 0, else D·H), {@code weight_hh_l{k}} (G·H, H),
 * {@code bias_ih_l{k}} (G·H), {@code bias_hh_l{k}} (G·H), each also with {@code _reverse} when bidirectional.
 */
public record RecurrentConfig(CellType cell, int inputSize, int hiddenSize, int numLayers, boolean bias,
                              double dropout, boolean bidirectional, boolean batchFirst) {

    public RecurrentConfig {
        if (cell == null) {
            throw new IllegalArgumentException("cell must be given (rnn_tanh, rnn_relu, gru or lstm)");
        }
        if (inputSize <= 0) {
            throw new IllegalArgumentException("input_size must be positive, got " + inputSize);
        }
        if (hiddenSize <= 0) {
            throw new IllegalArgumentException("hidden_size must be positive, got " + hiddenSize);
        }
        if (numLayers <= 0) {
            throw new IllegalArgumentException("num_layers must be positive, got " + numLayers);
        }
        if ((long) cell.gates * hiddenSize * (bidirectional ? 2 : 1) > Integer.MAX_VALUE - 8) {   // matrix dimensions are ints
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is too large for one " + cell.id + " layer");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
    }

    /** A single-direction, sequence-first layer with bias and no dropout. */
    public static RecurrentConfig of(CellType cell, int inputSize, int hiddenSize, int numLayers) {
        return new RecurrentConfig(cell, inputSize, hiddenSize, numLayers, true, 0.0, false, false);
    }

    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** Input width of layer {@code layer}. */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : directions() * hiddenSize;
    }

    /** Width of the output: directions × hidden. */
    public int outputSize() {
        return directions() * hiddenSize;
    }

    static String suffix(int layer, int direction) {
        return "_l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /** Adds this layer's tensors to {@code layout} under {@code prefix} (e.g. "rnn."), in PyTorch's order. */
    public void declare(ParamLayout layout, String prefix) {
        int gh = cell.gates * hiddenSize;
        for (int l = 0; l < numLayers; l++) {
            for (int d = 0; d < directions(); d++) {
                String s = suffix(l, d);
                layout.add(prefix + "weight_ih" + s, gh, layerInputSize(l));
                layout.add(prefix + "weight_hh" + s, gh, hiddenSize);
                if (bias) {
                    layout.add(prefix + "bias_ih" + s, gh);
                    layout.add(prefix + "bias_hh" + s, gh);
                }
            }
        }
    }

    /** PyTorch's initialisation: every weight and bias uniform in [−1/√H, 1/√H]. */
    public void init(Params params, String prefix, SplittableRandom rng) {
        float k = (float) (1.0 / Math.sqrt(hiddenSize));
        for (ParamLayout.TensorView t : params.layout.tensors()) {
            if (t.name().startsWith(prefix)) {
                for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                    params.values[i] = (float) (rng.nextDouble() * 2 - 1) * k;
                }
            }
        }
    }
}
