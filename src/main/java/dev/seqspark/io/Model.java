package dev.seqspark.io;

import dev.seqspark.nn.ModelSpec;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.Vocab;

/** A trained language model as a model directory holds it: architecture, tokenizer, vocabulary, weights. */
public record Model(ModelConfig config, Vocab vocab, float[] weights) implements java.io.Serializable {
    public Model {
        if (vocab.size() != config.spec().vocabSize()) {
            throw new IllegalArgumentException("vocabulary has " + vocab.size() + " tokens, the config says vocab_size "
                    + config.spec().vocabSize());
        }
        if (weights.length != config.spec().layout().size()) {
            throw new IllegalArgumentException("expected " + config.spec().layout().size() + " weights, got " + weights.length);
        }
    }

    public ModelSpec spec() {
        return config.spec();
    }

    /** The weights as {@link dev.seqspark.nn.Params} (a copy), ready for a dev.seqspark.train.LanguageModel. */
    public dev.seqspark.nn.Params params() {
        return dev.seqspark.nn.Params.of(config.spec().layout(), weights);
    }

    public Tokenizer tokenizer() {
        return new Tokenizer(config.tokenizer());
    }
}
