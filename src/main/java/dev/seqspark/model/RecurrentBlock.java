package dev.seqspark.model;

import dev.seqspark.nn.CellType;
import dev.seqspark.nn.RecurrentConfig;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One recurrent block of a network: a torch.nn.RNN / GRU / LSTM of {@code numLayers} layers, named {@code name}
 * in the state_dict ({@code NAME.weight_ih_l0}, …). Its input width is the previous block's output width (or the
 * embedding / vocabulary).
 */
public record RecurrentBlock(String name, CellType cell, int hiddenSize, int numLayers, boolean bidirectional,
                             double dropout, boolean bias) implements java.io.Serializable {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Set<String> RESERVED = Set.of("embedding", "fc");

    public RecurrentBlock {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("block name " + (name == null ? "null" : "'" + name + "'")
                    + " must be an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)");
        }
        if (RESERVED.contains(name)) {
            throw new IllegalArgumentException("block name '" + name + "' is taken by the "
                    + (name.equals("fc") ? "head" : "embedding"));
        }
        if (cell == null) {
            throw new IllegalArgumentException("block " + name + ": cell must be given");
        }
        if (hiddenSize <= 0 || hiddenSize > NetworkSpec.MAX_WIDTH) {
            throw new IllegalArgumentException("block " + name + ": hidden_size must be in [1, " + NetworkSpec.MAX_WIDTH
                    + "], got " + hiddenSize);
        }
        if (numLayers <= 0 || numLayers > NetworkSpec.MAX_LAYERS) {
            throw new IllegalArgumentException("block " + name + ": num_layers must be in [1, " + NetworkSpec.MAX_LAYERS
                    + "], got " + numLayers);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("block " + name + ": dropout must be in [0, 1), got " + dropout);
        }
    }

    /** A unidirectional block with bias and no dropout. */
    public static RecurrentBlock of(String name, CellType cell, int hiddenSize, int numLayers) {
        return new RecurrentBlock(name, cell, hiddenSize, numLayers, false, 0.0, true);
    }

    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** Width of the block's output: directions × hidden. */
    public int outputSize() {
        return directions() * hiddenSize;
    }

    /** The block as a torch.nn module reading {@code inputSize} features per step (sequence-first). */
    public RecurrentConfig recurrent(int inputSize) {
        return new RecurrentConfig(cell, inputSize, hiddenSize, numLayers, bias, dropout, bidirectional, false);
    }

    /** {@code lstm:128}, with {@code :layers=N}, {@code :bi}, {@code :dropout=P}, {@code :name=X} when not defaults. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(cell.id).append(':').append(hiddenSize);
        if (numLayers != 1) {
            sb.append(":layers=").append(numLayers);
        }
        if (bidirectional) {
            sb.append(":bi");
        }
        if (dropout != 0) {
            sb.append(":dropout=").append(dropout);
        }
        if (!bias) {
            sb.append(":nobias");
        }
        return sb.append(":name=").append(name).toString();
    }
}
