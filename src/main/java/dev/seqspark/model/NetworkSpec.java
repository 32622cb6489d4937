package dev.seqspark.model;

import dev.seqspark.nn.Embedding;
import dev.seqspark.nn.Linear;
import dev.seqspark.nn.ParamLayout;
import dev.seqspark.nn.Params;
import dev.seqspark.nn.RecurrentConfig;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The architecture both tasks share, as a PyTorch module declares it:
 * <pre>
 * token ids → one-hot (embeddingDim 0) or nn.Embedding(vocab, E)       named {@link #embeddingPrefix()}weight
 *           → recurrent block 0 → block 1 → …  each reads the previous one's output     named {@link #prefix(int)}
 *           → nn.Linear(width, {@link #headOutputs()})                       named {@link #headPrefix()}weight, bias
 * </pre>
 * A language model ({@link LanguageModelSpec}) has one block and a head over every position; a classifier
 * ({@link ClassifierSpec}) any number of blocks, pooled into one vector per record before its head. The
 * parameters are one flat vector in state_dict order: embedding, blocks in order, head.
 */
public sealed interface NetworkSpec extends java.io.Serializable permits LanguageModelSpec, ClassifierSpec {

    /*
     * Upper bounds on every size. Far beyond any recurrent model one would train, and small enough that no
     * product of them overflows a long; the parameter bound is what one float[] can hold. dev.seqspark.io.ModelConfig
     * documents them as limits of the model format.
     */
    /** Largest vocab_size: 2^24 tokens. */
    int MAX_VOCAB_SIZE = 1 << 24;
    /** Largest embedding_dim and hidden_size: 2^16. */
    int MAX_WIDTH = 1 << 16;
    /** Largest num_layers. */
    int MAX_LAYERS = 256;
    /** Largest number of parameters: the weights live in one float[], and the JVM caps arrays a little below 2^31. */
    int MAX_PARAMETERS = Integer.MAX_VALUE - 8;
    String EMBEDDING = "embedding.";

    int vocabSize();

    /** 0: one-hot input; E: a learned embedding. */
    int embeddingDim();

    /** The recurrent blocks, at least one, in order. */
    List<RecurrentBlock> blocks();

    /** The state_dict prefix of block {@code i}. */
    String prefix(int i);

    /** The head's prefix. */
    String headPrefix();

    /** The head's outputs: the vocabulary (next-token logits) or the classes. */
    int headOutputs();

    /** The head's inputs: the last block's output width. */
    default int headInputs() {
        return blocks().get(blocks().size() - 1).outputSize();
    }

    default String embeddingPrefix() {
        return EMBEDDING;
    }

    /** Width of block {@code i}'s input: the embedding, the vocabulary (one-hot), or the previous block's output. */
    default int blockInputSize(int i) {
        return i == 0 ? (embeddingDim() > 0 ? embeddingDim() : vocabSize()) : blocks().get(i - 1).outputSize();
    }

    default RecurrentConfig recurrent(int i) {
        return blocks().get(i).recurrent(blockInputSize(i));
    }

    /** Whether training draws dropout masks (some block has dropout between its layers). */
    default boolean hasDropout() {
        return blocks().stream().anyMatch(b -> b.dropout() > 0);
    }

    /** The tensors in state_dict order: embedding, blocks in order, head. */
    default ParamLayout layout() {
        ParamLayout layout = new ParamLayout();
        if (embeddingDim() > 0) {
            Embedding.declare(layout, embeddingPrefix(), vocabSize(), embeddingDim());
        }
        for (int i = 0; i < blocks().size(); i++) {
            recurrent(i).declare(layout, prefix(i));
        }
        Linear.declare(layout, headPrefix(), headInputs(), headOutputs(), true);
        return layout;
    }

    /** Fresh weights, initialised as PyTorch initialises each module, from {@code seed}. */
    default Params initParams(long seed) {
        Params p = new Params(layout());
        SplittableRandom rng = new SplittableRandom(seed);
        if (embeddingDim() > 0) {
            Embedding.init(p, embeddingPrefix(), rng);
        }
        for (int i = 0; i < blocks().size(); i++) {
            recurrent(i).init(p, prefix(i), rng);
        }
        Linear.init(p, headPrefix(), rng);
        return p;
    }

    /** The number of floats {@link #layout()} holds (arithmetic only). */
    default long parameterCount() {
        return parameterCount(vocabSize(), embeddingDim(), blocks(), headOutputs());
    }

    /**
     * The number of floats a network of these sizes holds, by arithmetic alone (nothing built or allocated), so that
     * a model file's size can be checked against its config first; saturates at Long.MAX_VALUE.
     */
    static long parameterCount(int vocabSize, int embeddingDim, List<RecurrentBlock> blocks, int headOutputs) {
        long n = mul(vocabSize, embeddingDim);                                              // embedding.weight
        long in = embeddingDim > 0 ? embeddingDim : vocabSize;
        for (RecurrentBlock b : blocks) {
            long gh = (long) b.cell().gates * b.hiddenSize();                               // rows of every matrix
            long first = add(mul(gh, in), mul(gh, b.hiddenSize()));                         // weight_ih_l0, weight_hh_l0
            long deeper = add(mul(gh, (long) b.directions() * b.hiddenSize()), mul(gh, b.hiddenSize()));
            long block = add(first, mul(b.numLayers() - 1L, deeper));
            if (b.bias()) {
                block = add(block, mul(b.numLayers(), 2 * gh));                             // bias_ih_l*, bias_hh_l*
            }
            n = add(n, mul(b.directions(), block));
            in = b.outputSize();
        }
        return add(n, add(mul(headOutputs, in), headOutputs));                              // head weight, bias
    }

    /** The bounds every network checks: vocabulary, embedding, parameter count. */
    static void checkSizes(int vocabSize, int embeddingDim, long parameters) {
        if (vocabSize <= 0 || vocabSize > MAX_VOCAB_SIZE) {
            throw new IllegalArgumentException(vocabSize <= 0 ? "vocab_size must be positive, got " + vocabSize
                    : "vocab_size " + vocabSize + " exceeds the limit of " + MAX_VOCAB_SIZE);
        }
        if (embeddingDim < 0 || embeddingDim > MAX_WIDTH) {
            throw new IllegalArgumentException(embeddingDim < 0
                    ? "embedding_dim must be 0 (one-hot input) or positive, got " + embeddingDim
                    : "embedding_dim " + embeddingDim + " exceeds the limit of " + MAX_WIDTH);
        }
        if (parameters > MAX_PARAMETERS) {
            throw new IllegalArgumentException("this architecture has " + parameters + " parameters, more than the "
                    + MAX_PARAMETERS + " one float[] holds");
        }
    }

    /** a·b for non-negative a, b, saturating at Long.MAX_VALUE. */
    private static long mul(long a, long b) {
        return a != 0 && b > Long.MAX_VALUE / a ? Long.MAX_VALUE : a * b;
    }

    /** a + b for non-negative a, b, saturating at Long.MAX_VALUE. */
    private static long add(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }
}
