package dev.seqspark.model;

import dev.seqspark.nn.CellType;
import dev.seqspark.nn.Pooling;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The architecture of a many-to-one sequence classifier, as a PyTorch user writes it:
 * <pre>
 * token ids → one-hot (embeddingDim 0) or nn.Embedding(vocab, E)
 *           → block 0 (nn.LSTM / nn.GRU / nn.RNN) → block 1 → …   each block reads the previous one's output
 *           → pooling of the last block over each record's valid steps ({@link Pooling})
 *           → nn.Linear(D·H of the last block, classes)                    logits; softmax cross-entropy
 * </pre>
 * Tensor names are those of that module's state_dict: {@code embedding.weight}, then each block's
 * {@code NAME.weight_ih_l0}, … under the block's attribute name (by default the cell's: {@code lstm}, {@code gru},
 * {@code rnn}), and {@code fc.weight}, {@code fc.bias}. The reference {@code LSTM_GRU} module is blocks
 * [lstm, gru] with {@code last} pooling. The computation is {@link Classifier}.
 *
 * @param vocabSize    tokens of the vocabulary (the one-hot width when embeddingDim is 0)
 * @param embeddingDim 0: one-hot input; E: a learned embedding
 * @param blocks       the recurrent blocks, at least one, in order
 * @param pooling      how the last block's states become one vector per record
 * @param numClasses   classes of the head, at least 2
 */
public record ClassifierSpec(int vocabSize, int embeddingDim, List<RecurrentBlock> blocks, Pooling pooling, int numClasses)
        implements NetworkSpec {
    public static final String HEAD = "fc.";
    /** Largest number of blocks. */
    public static final int MAX_BLOCKS = 16;
    /** Largest number of classes (the head's rows). */
    public static final int MAX_CLASSES = 1 << 16;

    public ClassifierSpec {
        if (blocks == null || blocks.isEmpty() || blocks.size() > MAX_BLOCKS) {
            throw new IllegalArgumentException("a classifier needs 1 to " + MAX_BLOCKS + " recurrent blocks, got "
                    + (blocks == null ? 0 : blocks.size()));
        }
        blocks = List.copyOf(blocks);
        Set<String> names = new HashSet<>();
        for (RecurrentBlock b : blocks) {
            if (!names.add(b.name())) {
                throw new IllegalArgumentException("two blocks are named '" + b.name() + "'");
            }
        }
        if (pooling == null) {
            throw new IllegalArgumentException("pooling must be last, mean or max");
        }
        if (numClasses < 2 || numClasses > MAX_CLASSES) {
            throw new IllegalArgumentException("a classifier needs 2 to " + MAX_CLASSES + " classes, got " + numClasses);
        }
        NetworkSpec.checkSizes(vocabSize, embeddingDim, NetworkSpec.parameterCount(vocabSize, embeddingDim, blocks, numClasses));
        int in = embeddingDim > 0 ? embeddingDim : vocabSize;
        for (RecurrentBlock b : blocks) {
            b.recurrent(in);   // RecurrentConfig's own checks
            in = b.outputSize();
        }
    }

    /** The state_dict prefix of block {@code i}: its name and a dot. */
    @Override
    public String prefix(int i) {
        return blocks.get(i).name() + ".";
    }

    @Override
    public String headPrefix() {
        return HEAD;
    }

    @Override
    public int headOutputs() {
        return numClasses;
    }

    /** Width of the pooled vector, the head's input: the last block's directions × hidden. */
    public int pooledSize() {
        return headInputs();
    }

    /** The cell's short name as a PyTorch user names the attribute: lstm, gru, rnn. */
    public static String shortName(CellType cell) {
        return switch (cell) {
            case LSTM -> "lstm";
            case GRU -> "gru";
            case RNN_TANH, RNN_RELU -> "rnn";
        };
    }

    /**
     * Blocks from a compact description, comma-separated, each {@code CELL:HIDDEN} followed by any of
     * {@code :layers=N}, {@code :bi}, {@code :dropout=P}, {@code :nobias}, {@code :name=X}; e.g.
     * {@code "lstm:128,gru:128"} (the reference LSTM→GRU) or {@code "gru:64:bi:layers=2"}. Unnamed blocks are named
     * after their cell ({@code lstm}, {@code gru}, {@code rnn}); when two would share a name, each of them gets its
     * position appended ({@code gru0}, {@code gru1}).
     */
    public static List<RecurrentBlock> parseBlocks(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("no blocks given; expected e.g. lstm:128,gru:128");
        }
        String[] parts = text.split(",");
        if (parts.length > MAX_BLOCKS) {
            throw new IllegalArgumentException("at most " + MAX_BLOCKS + " blocks, got " + parts.length);
        }
        List<Object[]> raw = new ArrayList<>();
        Map<String, Integer> defaultNameCount = new HashMap<>();
        for (String part : parts) {
            String[] f = part.trim().split(":");
            if (f.length < 2) {
                throw new IllegalArgumentException("block '" + part.trim() + "' should be CELL:HIDDEN[:layers=N][:bi]"
                        + "[:dropout=P][:nobias][:name=X], e.g. lstm:128");
            }
            CellType cell = CellType.fromId(f[0]);
            int hidden = parseInt(f[1].trim(), "hidden size", part);
            int layers = 1;
            boolean bi = false;
            boolean bias = true;
            double dropout = 0;
            String name = null;
            for (int i = 2; i < f.length; i++) {
                String o = f[i].trim().toLowerCase(Locale.ROOT);
                if (o.equals("bi") || o.equals("bidirectional")) {
                    bi = true;
                } else if (o.equals("nobias")) {
                    bias = false;
                } else if (o.startsWith("layers=")) {
                    layers = parseInt(o.substring(7), "layers", part);
                } else if (o.startsWith("dropout=")) {
                    try {
                        dropout = Double.parseDouble(o.substring(8));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("block '" + part.trim() + "': dropout must be a number");
                    }
                } else if (o.startsWith("name=")) {
                    name = f[i].trim().substring(5);
                } else {
                    throw new IllegalArgumentException("block '" + part.trim() + "': unknown option '" + f[i].trim()
                            + "' (layers=N, bi, dropout=P, nobias, name=X)");
                }
            }
            if (name == null) {
                defaultNameCount.merge(shortName(cell), 1, Integer::sum);
            }
            raw.add(new Object[] {name, cell, hidden, layers, bi, dropout, bias});
        }
        List<RecurrentBlock> out = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            Object[] r = raw.get(i);
            CellType cell = (CellType) r[1];
            String name = (String) r[0];
            if (name == null) {
                name = defaultNameCount.get(shortName(cell)) > 1 ? shortName(cell) + i : shortName(cell);
            }
            out.add(new RecurrentBlock(name, cell, (Integer) r[2], (Integer) r[3], (Boolean) r[4], (Double) r[5], (Boolean) r[6]));
        }
        return out;
    }

    private static int parseInt(String s, String what, String part) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("block '" + part.trim() + "': " + what + " must be an integer, got '" + s + "'");
        }
    }

    /** The blocks in {@link #parseBlocks} syntax ({@code :name=} only where it is not the default name). */
    public static String formatBlocks(List<RecurrentBlock> blocks) {
        StringBuilder sb = new StringBuilder();
        Map<String, Integer> shortNames = new HashMap<>();
        blocks.forEach(b -> shortNames.merge(shortName(b.cell()), 1, Integer::sum));
        for (int i = 0; i < blocks.size(); i++) {
            RecurrentBlock b = blocks.get(i);
            String s = b.toString();
            String def = shortNames.get(shortName(b.cell())) > 1 ? shortName(b.cell()) + i : shortName(b.cell());
            if (b.name().equals(def)) {
                s = s.substring(0, s.lastIndexOf(":name="));
            }
            sb.append(i == 0 ? "" : ",").append(s);
        }
        return sb.toString();
    }
}
