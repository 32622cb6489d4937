package dev.seqspark.model;

import dev.seqspark.nn.CellType;
import dev.seqspark.nn.RecurrentConfig;
import java.util.List;

/**
 * The architecture of d2l's RNNModel language model: token ids → one-hot (embeddingDim 0) or
 * embedding (vocab, E) → one stacked unidirectional recurrent block → linear head (vocab, hidden) at every step.
 * Tensor names are those of that module's state_dict: {@code embedding.weight}, {@code rnn.weight_ih_l0}, …,
 * {@code linear.weight}, {@code linear.bias}. The computation is {@link LanguageModel}.
 */
public record LanguageModelSpec(CellType cell, int vocabSize, int embeddingDim, int hiddenSize, int numLayers,
                                boolean bias, double dropout) implements NetworkSpec {
    public static final String RNN = "rnn.";
    public static final String LINEAR = "linear.";

    public LanguageModelSpec {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocab_size must be positive, got " + vocabSize);
        }
        if (embeddingDim < 0) {
            throw new IllegalArgumentException("embedding_dim must be 0 (one-hot input) or positive, got " + embeddingDim);
        }
        // RecurrentConfig's checks of the rest (cell, hidden size, layers, dropout), then the bounds of every network.
        new RecurrentConfig(cell, embeddingDim > 0 ? embeddingDim : vocabSize, hiddenSize, numLayers, bias,
                dropout, false, false);
        checkAtMost("hidden_size", hiddenSize, MAX_WIDTH);
        checkAtMost("num_layers", numLayers, MAX_LAYERS);
        NetworkSpec.checkSizes(vocabSize, embeddingDim, NetworkSpec.parameterCount(vocabSize, embeddingDim,
                List.of(block(cell, hiddenSize, numLayers, bias, dropout)), vocabSize));
    }

    private static void checkAtMost(String name, int value, int max) {
        if (value > max) {
            throw new IllegalArgumentException(name + " " + value + " exceeds the limit of " + max);
        }
    }

    private static RecurrentBlock block(CellType cell, int hidden, int layers, boolean bias, double dropout) {
        return new RecurrentBlock("rnn", cell, hidden, layers, false, dropout, bias);
    }

    @Override
    public List<RecurrentBlock> blocks() {
        return List.of(block(cell, hiddenSize, numLayers, bias, dropout));
    }

    @Override
    public String prefix(int i) {
        return RNN;
    }

    @Override
    public String headPrefix() {
        return LINEAR;
    }

    @Override
    public int headOutputs() {
        return vocabSize;
    }

    /** Width of the recurrent layer's input: the embedding size, or the vocabulary size for one-hot. */
    public int inputSize() {
        return blockInputSize(0);
    }

    /** Floats in one hidden state h (or c): (layers, batch, hidden). */
    public int stateSize(int batch) {
        return numLayers * batch * hiddenSize;
    }
}
