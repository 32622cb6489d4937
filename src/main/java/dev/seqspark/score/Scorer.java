package dev.seqspark.score;

import dev.seqspark.io.Model;
import dev.seqspark.model.LanguageModel;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.Recurrent;
import dev.seqspark.nn.SoftmaxCrossEntropy;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores texts with a language model, forward only: for each record (its tokens by the model's tokenizer,
 * the state starting from zeros at its first token) the sum of the natural-log probabilities of tokens
 * 2..n given the ones before them, and optionally the top-k next tokens after its last token.
 *
 * <p>Records are scored many at a time, in chunks of steps with the state carried ({@link ChunkedForward}); the
 * head's logits are made a block of rows at a time. Working memory is bounded by a budget whatever the record
 * lengths, the batch or the vocabulary size. Not thread-safe: one per task.
 */
public final class Scorer {

    /** One record's score; {@code topIds}/{@code topProbs} are empty unless top-k was asked for and the record has a token. */
    public record Score(long tokens, double logLikelihood, int[] topIds, float[] topProbs) {
        /** exp(−log_likelihood / tokens), NaN when no token is predicted. */
        public double perplexity() {
            return tokens == 0 ? Double.NaN : Math.exp(-logLikelihood / tokens);
        }

        public double bitsPerToken() {
            return tokens == 0 ? Double.NaN : -logLikelihood / tokens / Math.log(2);
        }
    }

    private final Tokenizer tokenizer;
    private final Vocab vocab;
    private final LanguageModel lm;
    private final ChunkedForward forward;
    private final int vocabSize;
    private final int topK;
    private final int headRows;       // rows of logits computed at once
    private final int[] bmpIds;      // char models: code point → id for the Basic Multilingual Plane

    /** Working memory a scorer may use for the recurrent forward and, apart, for one block of logits. */
    public static final long DEFAULT_BUDGET_BYTES = 64L << 20;

    /**
     * Steps per chunk for scoring and prediction jobs: short enough that a chunk's gate buffers (steps × rows ×
     * gates) stay in the CPU's caches between the input projection, the recurrent steps and the head. Measured
     * with {@code seqspark bench --mode score} (char GRU-256, 128 rows) and {@code bench --task classify --mode
     * predict}: 8 steps run about 18% faster than 256 (4 and 8 within noise, 1 and 2 slower).
     */
    public static final int CHUNK_STEPS = 8;

    public Scorer(Model<LanguageModelSpec> model, int batchRows, int chunkSteps, int topK) {
        this(model, batchRows, chunkSteps, topK, DEFAULT_BUDGET_BYTES);
    }

    /**
     * {@code budgetBytes} bounds the recurrent forward's buffers (the chunk's steps shrink to fit it, down to
     * one) and, separately, one block of logits (rows × vocabulary), so that memory does not grow with the
     * vocabulary, the batch or the records' lengths.
     */
    public Scorer(Model<LanguageModelSpec> model, int batchRows, int chunkSteps, int topK, long budgetBytes) {
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be non-negative, got " + topK);
        }
        this.tokenizer = model.tokenizer();
        this.vocab = model.vocab();
        this.lm = new LanguageModel(model.spec(), model.params()).freezeWeights();
        this.forward = new ChunkedForward(model.spec(), lm.encoder(), batchRows, chunkSteps, budgetBytes);
        this.vocabSize = model.spec().vocabSize();
        this.topK = Math.min(topK, vocabSize);
        this.headRows = (int) Math.max(1, Math.min(1 << 16, budgetBytes / Float.BYTES / vocabSize));
        this.bmpIds = model.config().tokenizer().level() == TokenizerConfig.Level.CHAR ? new int[1 << 16] : null;
        if (bmpIds != null) {
            Arrays.fill(bmpIds, -1);
        }
    }

    public Vocab vocab() {
        return vocab;
    }

    /** Next-token predictions asked for after each record (0: none). */
    public int topK() {
        return topK;
    }

    /** The token ids of one text (null: none); unknown tokens are {@code <unk>}. No String per character. */
    public int[] encode(String text) {
        if (text == null || text.isEmpty()) {
            return new int[0];
        }
        if (bmpIds == null) {
            return vocab.encode(tokenizer.textTokens(text));
        }
        String s = tokenizer.normalize(text);
        int[] out = new int[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            int id;
            if (cp < bmpIds.length) {
                id = bmpIds[cp];
                if (id < 0) {
                    id = vocab.id(s.substring(i, i + len));
                    bmpIds[cp] = id;
                }
            } else {
                id = vocab.id(s.substring(i, i + len));
            }
            out[n++] = id;
            i += len;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** Scores records (token ids), returned in the order given. */
    public List<Score> score(List<int[]> records) {
        Score[] out = new Score[records.size()];
        for (int[] group : forward.groups(records)) {
            int[][] recs = new int[group.length][];
            for (int i = 0; i < recs.length; i++) {
                recs[i] = records.get(group[i]);
            }
            Score[] s = scoreGroup(recs);
            for (int i = 0; i < recs.length; i++) {
                out[group[i]] = s[i];
            }
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null) {   // no token: nothing predicted
                out[i] = new Score(0, 0, new int[0], new float[0]);
            }
        }
        return new ArrayList<>(Arrays.asList(out));
    }

    /** One group, longest first: Σ ln p of every token after the first, and the top k after the last. */
    private Score[] scoreGroup(int[][] recs) {
        int rows = recs.length;
        double[] ll = new double[rows];
        int[][] topIds = new int[rows][];
        float[][] topProbs = new float[rows][];
        forward.run(recs, (Recurrent.Output top, int c0, int steps, int b, int[] lens, int still) -> {
            // The head a block of rows at a time: (steps·b, vocab) logits never exist at once.
            int total = steps * b;
            for (int r0 = 0; r0 < total; r0 += headRows) {
                int n = Math.min(headRows, total - r0);
                float[] logits = lm.headLogits(top.output(), r0, n);
                for (int k = 0; k < n; k++) {
                    int t = (r0 + k) / b;
                    int i = (r0 + k) % b;
                    if (t >= lens[i]) {
                        continue;
                    }
                    int[] r = recs[i];
                    int pos = c0 + t;
                    int off = k * vocabSize;
                    if (pos + 1 < r.length) {
                        ll[i] += logits[off + r[pos + 1]] - SoftmaxCrossEntropy.logSumExp(logits, off, vocabSize);
                    } else if (topK > 0) {
                        topIds[i] = topIds(logits, off, vocabSize, topK);
                        topProbs[i] = probabilities(logits, off, vocabSize, topIds[i]);
                    }
                }
            }
        });
        Score[] out = new Score[rows];
        for (int i = 0; i < rows; i++) {
            out[i] = new Score(recs[i].length - 1, ll[i],
                    topIds[i] == null ? new int[0] : topIds[i], topProbs[i] == null ? new float[0] : topProbs[i]);
        }
        return out;
    }

    /** The k largest logits of a row, largest first (ties: lower id first); O(V·k), no sorting of the row. */
    static int[] topIds(float[] logits, int off, int vocab, int k) {
        int[] ids = new int[k];
        int n = 0;
        for (int v = 0; v < vocab; v++) {
            float x = logits[off + v];
            if (n == k && x <= logits[off + ids[k - 1]]) {
                continue;
            }
            int at = n < k ? n++ : k - 1;
            while (at > 0 && x > logits[off + ids[at - 1]]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = v;
        }
        return ids;
    }

    static float[] probabilities(float[] logits, int off, int vocab, int[] ids) {
        double logZ = SoftmaxCrossEntropy.logSumExp(logits, off, vocab);
        float[] p = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            p[i] = (float) Math.exp(logits[off + ids[i]] - logZ);
        }
        return p;
    }
}
