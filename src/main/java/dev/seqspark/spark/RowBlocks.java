package dev.seqspark.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;

/**
 * A partition's rows, each with columns appended, a block of records at a time: up to {@link #BLOCK_RECORDS}
 * rows (or {@link #BLOCK_CHARS} characters of text, whichever comes first) are read, run through the model
 * together — so records of similar length share batches — and given back in input order. Memory stays bounded
 * by three blocks whatever the partition's size.
 *
 * <p>The model runs off the task's thread: while Spark's writer serializes block k in the task's thread, one
 * worker thread computes block k + 1, so reading, writing and the model overlap where a core is free. The task's
 * thread alone touches the input iterator (Spark's readers are bound to it); the worker only computes. The
 * results are the same as computed in line, in the same order; an exception in the model surfaces in the task.
 * The scorer and the classifier differ only in {@link #run} and {@link #appended}.
 *
 * @param <R> what the model gives one record
 */
abstract class RowBlocks<R> implements Iterator<Row> {
    static final int BLOCK_RECORDS = 1024;
    static final long BLOCK_CHARS = 4L << 20;

    private final Iterator<Row> in;
    private final int textIdx;
    private final JobProgress.Counters counters;
    private final ExecutorService worker;
    private boolean started;
    private List<Row> block = List.of();
    private List<R> results = List.of();
    private int next;
    private List<Row> pendingBlock = List.of();
    private Future<List<R>> pending;

    /** {@code counters}, when given, hear the records and tokens each block ran ({@link #count}). */
    RowBlocks(Iterator<Row> in, int textIdx, JobProgress.Counters counters) {
        this.in = in;
        this.textIdx = textIdx;
        this.counters = counters;
        TaskContext task = TaskContext.get();
        String name = "seqspark-model-" + (task == null ? "local" : task.partitionId() + "-" + task.attemptNumber());
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        if (task != null) {   // a killed or failed task stops its worker too
            task.addTaskCompletionListener((TaskCompletionListener) ctx -> worker.shutdownNow());
        }
    }

    /** The results of one block's texts (null for a null cell), one per text, in order. */
    protected abstract List<R> run(List<String> texts);

    /** Counts a block's records and tokens for progress reports (in the worker thread: the counters are accumulators). */
    protected final void count(long records, long tokens) {
        if (counters != null) {
            counters.add(records, tokens);
        }
    }

    /** The values appended to a row with this result, in the output columns' order. */
    protected abstract Object[] appended(R result);

    @Override
    public final boolean hasNext() {
        if (next < block.size()) {
            return true;
        }
        if (!started) {
            started = true;
            readAndSubmit();
        }
        if (pendingBlock.isEmpty()) {
            block = List.of();
            worker.shutdown();
            return false;
        }
        block = pendingBlock;
        results = await(pending);
        next = 0;
        readAndSubmit();   // the next block computes while this one is written
        return true;
    }

    /** Reads the next block in the task's thread and hands its texts to the worker. */
    private void readAndSubmit() {
        List<Row> rows = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        long chars = 0;
        while (in.hasNext() && rows.size() < BLOCK_RECORDS && chars < BLOCK_CHARS) {
            Row r = in.next();
            String text = r.isNullAt(textIdx) ? null : r.getString(textIdx);
            rows.add(r);
            texts.add(text);
            chars += text == null ? 0 : text.length();
        }
        pendingBlock = rows;
        pending = rows.isEmpty() ? null : worker.submit(() -> run(texts));
    }

    private List<R> await(Future<List<R>> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the model ran", e);
        } catch (ExecutionException e) {
            worker.shutdownNow();
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
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
