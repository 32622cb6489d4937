package dev.seqspark.nn;

import java.util.SplittableRandom;

/**
 * The architecture of d2l's RNNModel language model: token ids → one-hot (embeddingDim 0) or
 * embedding (vocab, E) → stacked unidirectional recurrent layer → linear head (vocab, hidden).
 * Tensor names are those of that module's state_dict: {@code embedding.weight}, {@code rnn.weight_ih_l0}, …,
 * {@code linear.weight}, {@code linear.bias}. The computation is dev.seqspark.train.LanguageModel.
 */
public record ModelSpec(CellType cell, int vocabSize, int embeddingDim, int hiddenSize, int numLayers,
                        boolean bias, double dropout) implements java.io.Serializable {
    public static final String EMBEDDING = "embedding.";
    public static final String RNN = "rnn.";
    public static final String LINEAR = "linear.";

    /*
     * Upper bounds on every size. They are far beyond any recurrent language model one would train, and small
     * enough that no product of them overflows a long; the parameter bound is what one float[] can hold.
     * dev.seqspark.io.ModelConfig documents them as limits of the model format.
     */
    /** Largest vocab_size: 2^24 tokens. */
    public static final int MAX_VOCAB_SIZE = 1 << 24;
    /** Largest embedding_dim and hidden_size: 2^16. */
    public static final int MAX_WIDTH = 1 << 16;
    /** Largest num_layers. */
    public static final int MAX_LAYERS = 256;
    /** Largest number of parameters: the weights live in one float[], and the JVM caps arrays a little below 2^31. */
    public static final int MAX_PARAMETERS = Integer.MAX_VALUE - 8;

    public ModelSpec {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab_size must be positive, got " + vocabSize);
        }
        if (embeddingDim < 0) {
            throw new IllegalArgumentException("embedding_dim must be 0 (one-hot input) or positive, got " + embeddingDim);
        }
        recurrentConfig(cell, vocabSize, embeddingDim, hiddenSize, numLayers, bias, dropout); // validates the rest
        checkAtMost("vocab_size", vocabSize, MAX_VOCAB_SIZE);
        checkAtMost("embedding_dim", embeddingDim, MAX_WIDTH);
        checkAtMost("hidden_size", hiddenSize, MAX_WIDTH);
        checkAtMost("num_layers", numLayers, MAX_LAYERS);
        long n = parameterCount(cell, vocabSize, embeddingDim, hiddenSize, numLayers, bias);
        if (n > MAX_PARAMETERS) {
            throw new IllegalArgumentException("this architecture has " + n + " parameters, more than the "
                    + MAX_PARAMETERS + " one float[] holds");
        }
    }

    private static void checkAtMost(String name, int value, int max) {
        if (value > max) {
            throw new IllegalArgumentException(name + " " + value + " exceeds the limit of " + max);
        }
    }

    /**
     * The number of floats {@link #layout()} holds, by arithmetic alone (nothing is built or allocated), so that
     * a model file's size can be checked against its config first. Exact for any non-negative sizes that fit a
     * long; {@code Long.MAX_VALUE} when the true count does not.
     */
    public static long parameterCount(CellType cell, int vocabSize, int embeddingDim, int hiddenSize, int numLayers,
                                      boolean bias) {
        if (vocabSize < 0 || embeddingDim < 0 || hiddenSize < 0 || numLayers < 0) {
            throw new IllegalArgumentException("sizes must be non-negative");
        }
        long gh = (long) cell.gates * hiddenSize;                           // rows of every recurrent matrix
        long input = embeddingDim > 0 ? embeddingDim : vocabSize;
        long n = mul(vocabSize, embeddingDim);                              // embedding.weight (0 for one-hot)
        if (numLayers > 0) {
            n = add(n, mul(gh, input));                                     // weight_ih_l0
            n = add(n, mul(numLayers - 1L, mul(gh, hiddenSize)));           // weight_ih_l1 .. (input = hidden)
            n = add(n, mul(numLayers, mul(gh, hiddenSize)));                // weight_hh_l*
            n = add(n, bias ? mul(numLayers, 2 * gh) : 0);                  // bias_ih_l*, bias_hh_l*
        }
        return add(n, add(mul(vocabSize, hiddenSize), vocabSize));          // linear.weight, linear.bias
    }

    /** {@link #parameterCount(CellType, int, int, int, int, boolean)} of this spec (equal to layout().size()). */
    public long parameterCount() {
        return parameterCount(cell, vocabSize, embeddingDim, hiddenSize, numLayers, bias);
    }

    /** a·b for non-negative a, b, saturating at Long.MAX_VALUE. */
    private static long mul(long a, long b) {
        return a != 0 && b > Long.MAX_VALUE / a ? Long.MAX_VALUE : a * b;
    }

    /** a + b for non-negative a, b, saturating at Long.MAX_VALUE. */
    private static long add(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }

    private static RecurrentConfig recurrentConfig(CellType cell, int vocab, int emb, int hidden, int layers,
                                                   boolean bias, double dropout) {
        return new RecurrentConfig(cell, emb > 0 ? emb : vocab, hidden, layers, bias, dropout, false, false);
    }

    /** Width of the recurrent layer's input: the embedding size, or the vocabulary size for one-hot. */
    public int inputSize() {
        return embeddingDim > 0 ? embeddingDim : vocabSize;
    }

    public RecurrentConfig recurrent() {
        return recurrentConfig(cell, vocabSize, embeddingDim, hiddenSize, numLayers, bias, dropout);
    }

    public ParamLayout layout() {
        ParamLayout layout = new ParamLayout();
        if (embeddingDim > 0) {
            Embedding.declare(layout, EMBEDDING, vocabSize, embeddingDim);
        }
        recurrent().declare(layout, RNN);
        Linear.declare(layout, LINEAR, hiddenSize, vocabSize, true);
        return layout;
    }

    /** Fresh weights, initialised as PyTorch initialises each module, from {@code seed}. */
    public Params initParams(long seed) {
        Params p = new Params(layout());
        SplittableRandom rng = new SplittableRandom(seed);
        if (embeddingDim > 0) {
            Embedding.init(p, EMBEDDING, rng);
        }
        recurrent().init(p, RNN, rng);
        Linear.init(p, LINEAR, rng);
        return p;
    }

    /** Floats in one hidden state h (or c): (layers, batch, hidden). */
    public int stateSize(int batch) {
        return numLayers * batch * hiddenSize;
    }
}
