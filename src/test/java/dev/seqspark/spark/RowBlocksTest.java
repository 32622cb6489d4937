package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** Blocks computed off the task's thread come back whole, in input order, each block once; failures surface. */
class RowBlocksTest {
    /** Appends the text's length and the block it was computed in, counting the model's calls and their threads. */
    static final class Lengths extends RowBlocks<Integer> {
        final List<Integer> blockSizes = new ArrayList<>();
        final List<String> threads = new ArrayList<>();

        Lengths(List<Row> rows) {
            super(rows.iterator(), 1, null);
        }

        @Override
        protected List<Integer> run(List<String> texts) {
            blockSizes.add(texts.size());
            threads.add(Thread.currentThread().getName());
            List<Integer> out = new ArrayList<>();
            for (String t : texts) {
                if ("boom".equals(t)) {
                    throw new IllegalArgumentException("the model failed on record " + out.size());
                }
                out.add(t == null ? null : t.length());
            }
            return out;
        }

        @Override
        protected Object[] appended(Integer length) {
            return new Object[] {length};
        }
    }

    private static List<Row> rows(int n) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(RowFactory.create((long) i, i % 7 == 3 ? null : "x".repeat(i % 11)));
        }
        return rows;
    }

    @Test
    void everyRowOnceInOrderWithItsResult() {
        int n = 2 * RowBlocks.BLOCK_RECORDS + 5;
        Lengths it = new Lengths(rows(n));
        int i = 0;
        while (it.hasNext()) {
            Row r = it.next();
            assertEquals(3, r.size());
            assertEquals((long) i, r.getLong(0));
            if (i % 7 == 3) {
                assertNull(r.get(2));
            } else {
                assertEquals(i % 11, r.getInt(2));
            }
            i++;
        }
        assertEquals(n, i);
        assertEquals(List.of(RowBlocks.BLOCK_RECORDS, RowBlocks.BLOCK_RECORDS, 5), it.blockSizes);
        assertTrue(it.threads.stream().allMatch(t -> t.startsWith("seqspark-model-")), it.threads.toString());
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
    }

    @Test
    void anEmptyPartitionNeverRunsTheModel() {
        Lengths it = new Lengths(List.of());
        assertFalse(it.hasNext());
        assertEquals(List.of(), it.blockSizes);
    }

    @Test
    void theModelsExceptionSurfacesInTheTask() {
        List<Row> rows = rows(RowBlocks.BLOCK_RECORDS + 10);
        rows.set(RowBlocks.BLOCK_RECORDS + 2, RowFactory.create(-1L, "boom"));
        Lengths it = new Lengths(rows);
        for (int i = 0; i < RowBlocks.BLOCK_RECORDS; i++) {
            it.next();   // the first block is fine
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, it::hasNext);
        assertEquals("the model failed on record 2", e.getMessage());
    }
}
