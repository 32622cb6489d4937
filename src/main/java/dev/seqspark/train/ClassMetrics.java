package dev.seqspark.train;

import java.util.Arrays;

/**
 * What a classifier's evaluation counts: Σ cross-entropy, records, and per class the true positives, the
 * records of that class and the records predicted as it; the whole confusion matrix when there are at most
 * {@link #MAX_CONFUSION_CLASSES} classes. Merged in a fixed order (shard order), so sums do not depend on
 * which task finished first.
 */
public final class ClassMetrics implements Validation {
    private static final long serialVersionUID = 1L;
    /** Above this many classes only the per-class counts are kept (C² counts would not be small). */
    public static final int MAX_CONFUSION_CLASSES = 100;

    private final int classes;
    private double lossSum;
    private long count;
    private final long[] truePositives;
    private final long[] actual;
    private final long[] predicted;
    private final long[] confusion;   // [true · C + predicted], or null

    public ClassMetrics(int classes) {
        this.classes = classes;
        this.truePositives = new long[classes];
        this.actual = new long[classes];
        this.predicted = new long[classes];
        this.confusion = classes <= MAX_CONFUSION_CLASSES ? new long[classes * classes] : null;
    }

    /**
     * Metrics from counts made elsewhere (a Spark observation): per class the true positives, the records of the
     * class and the records predicted as it; {@code confusion} [true · C + predicted] or null. No loss.
     */
    public static ClassMetrics fromCounts(long[] truePositives, long[] actual, long[] predicted, long[] confusion) {
        int c = actual.length;
        ClassMetrics m = new ClassMetrics(c);
        for (int i = 0; i < c; i++) {
            m.truePositives[i] = truePositives[i];
            m.actual[i] = actual[i];
            m.predicted[i] = predicted[i];
            m.count += actual[i];
        }
        if (confusion != null && m.confusion != null) {
            System.arraycopy(confusion, 0, m.confusion, 0, m.confusion.length);
        }
        return m;
    }

    /** One record: its class, the predicted one, and its cross-entropy. */
    public void add(int label, int prediction, double loss) {
        lossSum += loss;
        count++;
        actual[label]++;
        predicted[prediction]++;
        if (label == prediction) {
            truePositives[label]++;
        }
        if (confusion != null) {
            confusion[label * classes + prediction]++;
        }
    }

    /** Adds the loss of records whose counts were added one by one (a batch's Σ loss is computed at once). */
    void addLoss(double loss) {
        lossSum += loss;
    }

    /** One record's counts without its loss (see {@link #addLoss}). */
    void addCounts(int label, int prediction) {
        add(label, prediction, 0);
    }

    @Override
    public ClassMetrics plus(Validation o) {
        return merge((ClassMetrics) o);
    }

    public ClassMetrics merge(ClassMetrics o) {
        if (o.classes != classes) {
            throw new IllegalArgumentException("merging metrics of " + o.classes + " and " + classes + " classes");
        }
        lossSum += o.lossSum;
        count += o.count;
        for (int c = 0; c < classes; c++) {
            truePositives[c] += o.truePositives[c];
            actual[c] += o.actual[c];
            predicted[c] += o.predicted[c];
        }
        if (confusion != null) {
            for (int i = 0; i < confusion.length; i++) {
                confusion[i] += o.confusion[i];
            }
        }
        return this;
    }

    public int classes() {
        return classes;
    }

    public long count() {
        return count;
    }

    public double lossSum() {
        return lossSum;
    }

    /** Mean cross-entropy per record (NaN without records). */
    public double meanLoss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    public long correct() {
        long n = 0;
        for (long tp : truePositives) {
            n += tp;
        }
        return n;
    }

    public double accuracy() {
        return count == 0 ? Double.NaN : (double) correct() / count;
    }

    /**
     * The unweighted mean over classes of F1 = 2·TP / (2·TP + FP + FN), over the classes that occur as a label or
     * as a prediction (scikit-learn's f1_score(average='macro') with its default labels).
     */
    public double macroF1() {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < classes; c++) {
            if (actual[c] == 0 && predicted[c] == 0) {
                continue;
            }
            long tp = truePositives[c];
            long fp = predicted[c] - tp;
            long fn = actual[c] - tp;
            sum += 2.0 * tp / (2.0 * tp + fp + fn);
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** F1 of class {@code c} (NaN when it is neither a label nor a prediction). */
    public double f1(int c) {
        long tp = truePositives[c];
        long denom = 2 * tp + (predicted[c] - tp) + (actual[c] - tp);
        return denom == 0 ? Double.NaN : 2.0 * tp / denom;
    }

    public long actual(int c) {
        return actual[c];
    }

    public long predicted(int c) {
        return predicted[c];
    }

    /** confusion[true][predicted], or null above {@link #MAX_CONFUSION_CLASSES} classes. */
    public long[][] confusion() {
        if (confusion == null) {
            return null;
        }
        long[][] m = new long[classes][];
        for (int i = 0; i < classes; i++) {
            m[i] = Arrays.copyOfRange(confusion, i * classes, (i + 1) * classes);
        }
        return m;
    }

    /** The confusion matrix as aligned text, rows = true class, columns = predicted (null when not kept). */
    public String confusionTable(java.util.List<String> labels) {
        long[][] m = confusion();
        if (m == null) {
            return null;
        }
        int w = "true\\pred".length();
        for (String l : labels) {
            w = Math.max(w, l.length());
        }
        for (long[] row : m) {
            for (long v : row) {
                w = Math.max(w, Long.toString(v).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        String fmt = "%" + w + "s";
        sb.append(String.format(fmt, "true\\pred"));
        for (String l : labels) {
            sb.append("  ").append(String.format(fmt, l));
        }
        for (int i = 0; i < classes; i++) {
            sb.append('\n').append(String.format(fmt, labels.get(i)));
            for (long v : m[i]) {
                sb.append("  ").append(String.format(fmt, v));
            }
        }
        return sb.toString();
    }
}
