package dev.seqspark.nn;

import java.util.Arrays;
import java.util.Locale;

/**
 * The recurrent cell types of torch.nn.RNN / GRU / LSTM, with their gate counts and PyTorch's gate order
 * (GRU: r, z, n; LSTM: i, f, g, o), which is also the row order inside {@code weight_ih} and {@code weight_hh}.
 */
public enum CellType {
    /** torch.nn.RNN(nonlinearity='tanh'): h' = tanh(W_ih x + b_ih + W_hh h + b_hh). */
    RNN_TANH("rnn_tanh", 1),
    /** torch.nn.RNN(nonlinearity='relu'): h' = relu(W_ih x + b_ih + W_hh h + b_hh). */
    RNN_RELU("rnn_relu", 1),
    /** torch.nn.GRU: r, z = σ(…), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. */
    GRU("gru", 3),
    /** torch.nn.LSTM: i, f, o = σ(…), g = tanh(…), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). */
    LSTM("lstm", 4);

    /** The name used in configs and model files. */
    public final String id;
    /** Gate blocks stacked in the weight matrices: weight_ih is (gates·hidden, input). */
    public final int gates;

    CellType(String id, int gates) {
        this.id = id;
        this.gates = gates;
    }

    public boolean hasCellState() {
        return this == LSTM;
    }

    public static CellType fromId(String id) {
        String key = id == null ? "" : id.trim().toLowerCase(Locale.ROOT);
        if (key.equals("rnn")) {
            return RNN_TANH;
        }
        for (CellType c : values()) {
            if (c.id.equals(key)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown cell '" + id + "'; expected one of "
                + Arrays.stream(values()).map(c -> c.id).toList());
    }

    Cell newCell() {
        return switch (this) {
            case RNN_TANH -> new Cell.Elman(false);
            case RNN_RELU -> new Cell.Elman(true);
            case GRU -> new Cell.Gru();
            case LSTM -> new Cell.Lstm();
        };
    }
}
