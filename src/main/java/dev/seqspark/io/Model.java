package dev.seqspark.io;

import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.model.NetworkSpec;
import dev.seqspark.nn.Params;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;
import java.util.HashSet;
import java.util.List;

/**
 * A trained model as a model directory holds it, of either task: architecture, tokenizer, vocabulary, the label
 * names of a classifier (position = class index; none for a language model) and the weights.
 *
 * @param <S> {@link dev.seqspark.model.LanguageModelSpec} or {@link ClassifierSpec}
 */
public record Model<S extends NetworkSpec>(ModelConfig<S> config, Vocab vocab, List<String> labels, float[] weights)
        implements java.io.Serializable {
    public Model {
        if (vocab.size() != config.spec().vocabSize()) {
            throw new IllegalArgumentException("vocabulary has " + vocab.size() + " tokens, the config says vocab_size "
                    + config.spec().vocabSize());
        }
        labels = List.copyOf(labels);
        int classes = config.spec() instanceof ClassifierSpec c ? c.numClasses() : 0;
        if (labels.size() != classes) {
            throw new IllegalArgumentException(labels.size() + " label names for " + classes + " classes");
        }
        if (new HashSet<>(labels).size() != labels.size() || labels.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("label names must be distinct and non-empty: " + labels);
        }
        if (weights.length != config.spec().layout().size()) {
            throw new IllegalArgumentException("expected " + config.spec().layout().size() + " weights, got " + weights.length);
        }
    }

    /** A language model (no labels). */
    public Model(ModelConfig<S> config, Vocab vocab, float[] weights) {
        this(config, vocab, List.of(), weights);
    }

    public S spec() {
        return config.spec();
    }

    /** The weights as {@link Params} (a copy), ready for a network of {@link #spec()}. */
    public Params params() {
        return Params.of(config.spec().layout(), weights);
    }

    public Tokenizer tokenizer() {
        return new Tokenizer(config.tokenizer());
    }

    /** A record's token ids as training and prediction see it: tokenized, unknown tokens {@code <unk>}, cut to max_length. */
    public int[] encode(String text) {
        return encode(tokenizer(), vocab, config.maxLength(), text);
    }

    /** As {@link #encode(String)}, with the parts given (on executors, where they are built once). */
    public static int[] encode(Tokenizer tokenizer, Vocab vocab, int maxLength, String text) {
        if (text == null || text.isEmpty()) {
            return new int[0];
        }
        List<String> toks = tokenizer.textTokens(text);
        int n = maxLength > 0 ? Math.min(maxLength, toks.size()) : toks.size();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = vocab.id(toks.get(i));
        }
        return ids;
    }
}
