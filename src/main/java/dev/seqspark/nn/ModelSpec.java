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

    public ModelSpec {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab_size must be positive, got " + vocabSize);
        }
        if (embeddingDim < 0) {
            throw new IllegalArgumentException("embedding_dim must be 0 (one-hot input) or positive, got " + embeddingDim);
        }
        recurrentConfig(cell, vocabSize, embeddingDim, hiddenSize, numLayers, bias, dropout); // validates the rest
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
