package dev.seqspark.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * A partition's rows, each with columns appended, a block of records at a time: up to {@link #BLOCK_RECORDS}
 * rows (or {@link #BLOCK_CHARS} characters of text, whichever comes first) are read, run through the model
 * together — so records of similar length share batches — and given back in input order. Memory stays bounded
 * by the block whatever the partition's size. The scorer and the classifier differ only in {@link #run} and
 * {@link #appended}.
 *
 * @param <R> what the model gives one record
 */
abstract class RowBlocks<R> implements Iterator<Row> {
    static final int BLOCK_RECORDS = 1024;
    static final long BLOCK_CHARS = 4L << 20;

    private final Iterator<Row> in;
    private final int textIdx;
    private final List<Row> block = new ArrayList<>();
    private List<R> results = List.of();
    private int next;

    RowBlocks(Iterator<Row> in, int textIdx) {
        this.in = in;
        this.textIdx = textIdx;
    }

    /** The results of one block's texts (null for a null cell), one per text, in order. */
    protected abstract List<R> run(List<String> texts);

    /** The values appended to a row with this result, in the output columns' order. */
    protected abstract Object[] appended(R result);

    @Override
    public final boolean hasNext() {
        if (next < block.size()) {
            return true;
        }
        block.clear();
        next = 0;
        List<String> texts = new ArrayList<>();
        long chars = 0;
        while (in.hasNext() && block.size() < BLOCK_RECORDS && chars < BLOCK_CHARS) {
            Row r = in.next();
            String text = r.isNullAt(textIdx) ? null : r.getString(textIdx);
            block.add(r);
            texts.add(text);
            chars += text == null ? 0 : text.length();
        }
        results = block.isEmpty() ? List.of() : run(texts);
        return !block.isEmpty();
    }

    @Override
    public final Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Row r = block.get(next);
        Object[] extra = appended(results.get(next));
        next++;
        int n = r.size();
        Object[] v = new Object[n + extra.length];
        for (int i = 0; i < n; i++) {
            v[i] = r.get(i);
        }
        System.arraycopy(extra, 0, v, n, extra.length);
        return RowFactory.create(v);
    }
}
