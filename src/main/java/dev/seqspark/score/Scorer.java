package dev.seqspark.score;

import dev.seqspark.io.Model;
import dev.seqspark.nn.SoftmaxCrossEntropy;
import dev.seqspark.text.Tokenizer;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import dev.seqspark.train.LanguageModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores texts with a language model, forward only: for each record (its tokens by the model's tokenizer,
 * the state starting from zeros at its first token) the sum of the natural-log probabilities of tokens
 * 2..n given the ones before them, and optionally the top-k next tokens after its last token.
 *
 * <p>Records are scored many at a time: sorted by length, grouped {@code batchRows} at a time, and run
 * through the masked variable-length recurrent layer up to {@code chunkSteps} steps at a time with the state
 * carried; the head's logits are made a block of rows at a time. Working memory is bounded by a budget
 * whatever the record lengths, the batch or the vocabulary size, and nothing is allocated for backward. Rows leave
 * the batch as their records end, so one very long record runs alone rather than with idle neighbours.
 * Not thread-safe: one per task.
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

    private final Model model;
    private final Tokenizer tokenizer;
    private final Vocab vocab;
    private final LanguageModel lm;
    private final int batchRows;
    private final int chunkSteps;
    private final int topK;
    private final long budgetFloats;  // working memory of the recurrent forward, in floats
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

    public Scorer(Model model, int batchRows, int chunkSteps, int topK) {
        this(model, batchRows, chunkSteps, topK, DEFAULT_BUDGET_BYTES);
    }

    /**
     * {@code budgetBytes} bounds the recurrent forward's buffers (the chunk's steps shrink to fit it, down to
     * one) and, separately, one block of logits (rows × vocabulary), so that memory does not grow with the
     * vocabulary, the batch or the records' lengths.
     */
    public Scorer(Model model, int batchRows, int chunkSteps, int topK, long budgetBytes) {
        if (batchRows <= 0 || chunkSteps <= 0 || topK < 0 || budgetBytes <= 0) {
            throw new IllegalArgumentException("batch rows, chunk steps and the budget must be positive and top-k non-negative");
        }
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.vocab = model.vocab();
        this.lm = new LanguageModel(model.spec(), model.params()).freezeWeights();
        this.batchRows = batchRows;
        this.chunkSteps = chunkSteps;
        this.topK = Math.min(topK, model.spec().vocabSize());
        this.budgetFloats = budgetBytes / Float.BYTES;
        this.headRows = (int) Math.max(1, Math.min(1 << 16, budgetFloats / model.spec().vocabSize()));
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
        int n = records.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(records.get(b).length, records.get(a).length));
        Score[] out = new Score[n];
        for (int g = 0; g < n; g += batchRows) {
            int[][] group = new int[Math.min(batchRows, n - g)][];
            for (int i = 0; i < group.length; i++) {
                group[i] = records.get(order[g + i]);
            }
            Score[] s = scoreGroup(group);
            for (int i = 0; i < group.length; i++) {
                out[order[g + i]] = s[i];
            }
        }
        return new ArrayList<>(Arrays.asList(out));
    }

    /** One group, longest first: rows [0, active) are the records not yet finished. */
    private Score[] scoreGroup(int[][] recs) {
        int rows = recs.length;
        int vocabSize = model.spec().vocabSize();
        double[] ll = new double[rows];
        int[][] topIds = new int[rows][];
        float[][] topProbs = new float[rows][];
        int active = rows;
        while (active > 0 && recs[active - 1].length == 0) {
            active--;
        }
        LanguageModel.State state = new LanguageModel.State(model.spec(), Math.max(1, active));
        int chunk = chunkSteps(rows);
        int[] x = new int[chunk * rows];
        int[] lens = new int[rows];
        for (int c0 = 0; active > 0; c0 += chunk) {
            int steps = Math.min(chunk, recs[0].length - c0);
            int b = active;
            for (int i = 0; i < b; i++) {
                int[] r = recs[i];
                lens[i] = Math.min(steps, r.length - c0);
                for (int t = 0; t < steps; t++) {
                    x[t * b + i] = t < lens[i] ? r[c0 + t] : 0;
                }
            }
            float[] hidden = lm.forwardHidden(x, steps, b, Arrays.copyOf(lens, b), state, null);
            // The head a block of rows at a time: (steps·b, vocab) logits never exist at once.
            int total = steps * b;
            for (int r0 = 0; r0 < total; r0 += headRows) {
                int n = Math.min(headRows, total - r0);
                float[] logits = lm.headLogits(hidden, r0, n);
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
            int still = b;
            while (still > 0 && recs[still - 1].length <= c0 + steps) {
                still--;
            }
            if (still > 0 && still < b) {
                state = shrink(state, b, still);
            }
            active = still;
        }
        Score[] out = new Score[rows];
        for (int i = 0; i < rows; i++) {
            out[i] = new Score(Math.max(0, recs[i].length - 1), ll[i],
                    topIds[i] == null ? new int[0] : topIds[i], topProbs[i] == null ? new float[0] : topProbs[i]);
        }
        return out;
    }

    /** Steps per chunk for {@code rows} records: at most chunkSteps, and within the working-memory budget. */
    private int chunkSteps(int rows) {
        long perStep = (long) rows * lm.forwardFloatsPerRow();
        return (int) Math.max(1, Math.min(chunkSteps, budgetFloats / Math.max(1, perStep)));
    }

    /** The state of the first {@code keep} rows of a batch of {@code rows} (each layer's block is (rows, H)). */
    private LanguageModel.State shrink(LanguageModel.State s, int rows, int keep) {
        LanguageModel.State out = new LanguageModel.State(model.spec(), keep);
        int h = model.spec().hiddenSize();
        for (int l = 0; l < model.spec().numLayers(); l++) {
            System.arraycopy(s.h, l * rows * h, out.h, l * keep * h, keep * h);
            if (s.c != null) {
                System.arraycopy(s.c, l * rows * h, out.c, l * keep * h, keep * h);
            }
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
