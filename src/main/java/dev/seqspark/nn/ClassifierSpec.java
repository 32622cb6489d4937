package dev.seqspark.nn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

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
 * {@code rnn}), and {@code fc.weight}, {@code fc.bias}. The reference {@code LSTM_GRU} module is
 * blocks [lstm, gru] with {@code last} pooling. The computation is dev.seqspark.train.Classifier.
 *
 * @param vocabSize    tokens of the vocabulary (the one-hot width when embeddingDim is 0)
 * @param embeddingDim 0: one-hot input; E: a learned embedding
 * @param blocks       the recurrent blocks, at least one, in order
 * @param pooling      how the last block's states become one vector per record
 * @param numClasses   classes of the head, at least 2
 */
public record ClassifierSpec(int vocabSize, int embeddingDim, List<Block> blocks, Pooling pooling, int numClasses)
        implements java.io.Serializable {
    public static final String EMBEDDING = "embedding.";
    public static final String HEAD = "fc.";
    /** Largest number of blocks. */
    public static final int MAX_BLOCKS = 16;
    /** Largest number of classes (the head's rows). */
    public static final int MAX_CLASSES = 1 << 16;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Set<String> RESERVED = Set.of("embedding", "fc");

    /**
     * One recurrent block: a torch.nn.RNN / GRU / LSTM of {@code numLayers} layers, named {@code name} in the
     * state_dict. Its input width is the previous block's output width (or the embedding / vocabulary).
     */
    public record Block(String name, CellType cell, int hiddenSize, int numLayers, boolean bidirectional, double dropout,
                        boolean bias) implements java.io.Serializable {
        public Block {
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
            if (hiddenSize <= 0 || hiddenSize > ModelSpec.MAX_WIDTH) {
                throw new IllegalArgumentException("block " + name + ": hidden_size must be in [1, " + ModelSpec.MAX_WIDTH
                        + "], got " + hiddenSize);
            }
            if (numLayers <= 0 || numLayers > ModelSpec.MAX_LAYERS) {
                throw new IllegalArgumentException("block " + name + ": num_layers must be in [1, " + ModelSpec.MAX_LAYERS
                        + "], got " + numLayers);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("block " + name + ": dropout must be in [0, 1), got " + dropout);
            }
        }

        /** A unidirectional block with bias and no dropout. */
        public static Block of(String name, CellType cell, int hiddenSize, int numLayers) {
            return new Block(name, cell, hiddenSize, numLayers, false, 0.0, true);
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

    public ClassifierSpec {
        if (vocabSize <= 0 || vocabSize > ModelSpec.MAX_VOCAB_SIZE) {
            throw new IllegalArgumentException("vocab_size must be in [1, " + ModelSpec.MAX_VOCAB_SIZE + "], got " + vocabSize);
        }
        if (embeddingDim < 0 || embeddingDim > ModelSpec.MAX_WIDTH) {
            throw new IllegalArgumentException("embedding_dim must be 0 (one-hot input) or in [1, " + ModelSpec.MAX_WIDTH
                    + "], got " + embeddingDim);
        }
        if (blocks == null || blocks.isEmpty() || blocks.size() > MAX_BLOCKS) {
            throw new IllegalArgumentException("a classifier needs 1 to " + MAX_BLOCKS + " recurrent blocks, got "
                    + (blocks == null ? 0 : blocks.size()));
        }
        blocks = List.copyOf(blocks);
        Set<String> names = new HashSet<>();
        for (Block b : blocks) {
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
        long n = parameterCount(vocabSize, embeddingDim, blocks, numClasses);
        if (n > ModelSpec.MAX_PARAMETERS) {
            throw new IllegalArgumentException("this architecture has " + n + " parameters, more than the "
                    + ModelSpec.MAX_PARAMETERS + " one float[] holds");
        }
        for (int i = 0; i < blocks.size(); i++) {
            blocks.get(i).recurrent(inputSize(vocabSize, embeddingDim, blocks, i));   // RecurrentConfig's own checks
        }
    }

    private static int inputSize(int vocab, int emb, List<Block> blocks, int i) {
        return i == 0 ? (emb > 0 ? emb : vocab) : blocks.get(i - 1).outputSize();
    }

    /** Width of block {@code i}'s input: the embedding, the vocabulary (one-hot), or the previous block's output. */
    public int blockInputSize(int i) {
        return inputSize(vocabSize, embeddingDim, blocks, i);
    }

    public RecurrentConfig recurrent(int i) {
        return blocks.get(i).recurrent(blockInputSize(i));
    }

    /** The state_dict prefix of block {@code i}: its name and a dot. */
    public String prefix(int i) {
        return blocks.get(i).name() + ".";
    }

    /** Width of the pooled vector, the head's input: the last block's directions × hidden. */
    public int pooledSize() {
        return blocks.get(blocks.size() - 1).outputSize();
    }

    /**
     * The number of floats {@link #layout()} holds, by arithmetic alone, saturating at Long.MAX_VALUE: for
     * checking a weights file against a config before anything is built.
     */
    public static long parameterCount(int vocabSize, int embeddingDim, List<Block> blocks, int numClasses) {
        long n = mul(vocabSize, embeddingDim);
        long in = embeddingDim > 0 ? embeddingDim : vocabSize;
        for (Block b : blocks) {
            long gh = (long) b.cell().gates * b.hiddenSize();
            long perDir = add(mul(gh, in), mul(gh, b.hiddenSize()));                        // weight_ih_l0, weight_hh_l0
            long deeper = add(mul(gh, (long) b.directions() * b.hiddenSize()), mul(gh, b.hiddenSize()));
            long layer = add(perDir, mul(b.numLayers() - 1L, deeper));
            if (b.bias()) {
                layer = add(layer, mul(b.numLayers(), 2 * gh));
            }
            n = add(n, mul(b.directions(), layer));
            in = b.outputSize();
        }
        return add(n, add(mul(numClasses, in), numClasses));                              // fc.weight, fc.bias
    }

    public long parameterCount() {
        return parameterCount(vocabSize, embeddingDim, blocks, numClasses);
    }

    private static long mul(long a, long b) {
        return a != 0 && b > Long.MAX_VALUE / a ? Long.MAX_VALUE : a * b;
    }

    private static long add(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }

    /** The tensors in the module's state_dict order: embedding, blocks in order, head. */
    public ParamLayout layout() {
        ParamLayout layout = new ParamLayout();
        if (embeddingDim > 0) {
            Embedding.declare(layout, EMBEDDING, vocabSize, embeddingDim);
        }
        for (int i = 0; i < blocks.size(); i++) {
            recurrent(i).declare(layout, prefix(i));
        }
        Linear.declare(layout, HEAD, pooledSize(), numClasses, true);
        return layout;
    }

    /** Fresh weights, initialised as PyTorch initialises each module, from {@code seed}. */
    public Params initParams(long seed) {
        Params p = new Params(layout());
        SplittableRandom rng = new SplittableRandom(seed);
        if (embeddingDim > 0) {
            Embedding.init(p, EMBEDDING, rng);
        }
        for (int i = 0; i < blocks.size(); i++) {
            recurrent(i).init(p, prefix(i), rng);
        }
        Linear.init(p, HEAD, rng);
        return p;
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
    public static List<Block> parseBlocks(String text) {
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
        List<Block> out = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            Object[] r = raw.get(i);
            CellType cell = (CellType) r[1];
            String name = (String) r[0];
            if (name == null) {
                name = defaultNameCount.get(shortName(cell)) > 1 ? shortName(cell) + i : shortName(cell);
            }
            out.add(new Block(name, cell, (Integer) r[2], (Integer) r[3], (Boolean) r[4], (Double) r[5], (Boolean) r[6]));
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
    public static String formatBlocks(List<Block> blocks) {
        StringBuilder sb = new StringBuilder();
        Map<String, Integer> shortNames = new HashMap<>();
        blocks.forEach(b -> shortNames.merge(shortName(b.cell()), 1, Integer::sum));
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
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
