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
 * through the masked variable-length recurrent layer {@code chunkSteps} steps at a time with the state
 * carried, so working memory is bounded by batchRows × chunkSteps whatever the record lengths. Rows leave
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
    private final int[] bmpIds;      // char models: code point → id for the Basic Multilingual Plane

    public Scorer(Model model, int batchRows, int chunkSteps, int topK) {
        if (batchRows <= 0 || chunkSteps <= 0 || topK < 0) {
            throw new IllegalArgumentException("batch rows and chunk steps must be positive and top-k non-negative");
        }
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.vocab = model.vocab();
        this.lm = new LanguageModel(model.spec(), model.params()).freezeWeights();
        this.batchRows = batchRows;
        this.chunkSteps = chunkSteps;
        this.topK = Math.min(topK, model.spec().vocabSize());
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
        Score[] out = new Score[rows];
        int active = rows;
        while (active > 0 && recs[active - 1].length == 0) {
            active--;
        }
        LanguageModel.State state = new LanguageModel.State(model.spec(), Math.max(1, active));
        int[] x = new int[chunkSteps * rows];
        int[] lens = new int[rows];
        float[][] top = new float[rows][];
        for (int c0 = 0; active > 0; c0 += chunkSteps) {
            int steps = Math.min(chunkSteps, recs[0].length - c0);
            int b = active;
            for (int i = 0; i < b; i++) {
                int[] r = recs[i];
                lens[i] = Math.min(steps, r.length - c0);
                for (int t = 0; t < steps; t++) {
                    x[t * b + i] = t < lens[i] ? r[c0 + t] : 0;
                }
            }
            float[] logits = lm.forward(x, steps, b, Arrays.copyOf(lens, b), state, null);
            for (int i = 0; i < b; i++) {
                int[] r = recs[i];
                for (int t = 0; t < lens[i]; t++) {
                    int row = (t * b + i) * vocabSize;
                    int pos = c0 + t;
                    if (pos + 1 < r.length) {
                        ll[i] += logits[row + r[pos + 1]] - SoftmaxCrossEntropy.logSumExp(logits, row, vocabSize);
                    } else if (topK > 0) {
                        top[i] = Arrays.copyOfRange(logits, row, row + vocabSize);
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
        for (int i = 0; i < rows; i++) {
            int[] ids = new int[0];
            float[] probs = new float[0];
            if (top[i] != null) {
                ids = topIds(top[i], topK);
                probs = probabilities(top[i], ids);
            }
            out[i] = new Score(Math.max(0, recs[i].length - 1), ll[i], ids, probs);
        }
        return out;
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

    static int[] topIds(float[] logits, int k) {
        Integer[] idx = new Integer[logits.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(logits[b], logits[a]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    static float[] probabilities(float[] logits, int[] ids) {
        double logZ = SoftmaxCrossEntropy.logSumExp(logits, 0, logits.length);
        float[] p = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            p[i] = (float) Math.exp(logits[ids[i]] - logZ);
        }
        return p;
    }
}
