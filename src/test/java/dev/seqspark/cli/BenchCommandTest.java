package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** {@code seqspark bench}: each mode measures real work and reports it as one JSON line; bad options are one line. */
class BenchCommandTest {
    private static JsonNode bench(String... more) throws IOException {
        String[] base = {"bench", "--hidden", "8", "--batch", "4", "--seconds", "0.2", "--warmup", "0"};
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        Object[] r = ScoreCommandTest.run(args);
        assertEquals(0, r[0], (String) r[2]);
        return ScoreCommandTest.lastJsonLine((String) r[1]);
    }

    @Test
    void scoreModeScoresWholeRecordsOfRandomTokens() throws IOException {
        JsonNode j = bench("--mode", "score", "--record-tokens", "300", "--vocab", "28");
        assertEquals("score", j.get("mode").asText());
        assertEquals(300, j.get("record_tokens").asInt());
        long tokens = j.get("tokens").asLong();
        assertTrue(tokens > 0 && tokens % (4L * 299) == 0, "whole passes of 4 records x 299 predicted tokens: " + tokens);
        assertTrue(j.get("tokens_per_second").asDouble() > 0);
    }

    @Test
    void trainModeCountsBatchesOfTokens() throws IOException {
        JsonNode j = bench("--steps", "5");
        assertEquals("train", j.get("mode").asText());
        assertEquals(0, j.get("tokens").asLong() % 20, "whole batches of 4 x 5 tokens");
    }

    @Test
    void anUnknownModeIsOneLine() {
        Object[] r = ScoreCommandTest.run("bench", "--mode", "predict", "--seconds", "0.1");
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertTrue(err.contains("--mode must be train or score") && !err.contains("\n"), err);
    }

    @Test
    void gemmMeasuresEachOperandLayoutAndRefusesAnUnknownOne() throws IOException {
        for (String op : new String[] {"NT", "NN", "TN"}) {
            JsonNode j = bench("--gemm", "9x20x7", "--gemm-op", op.toLowerCase(java.util.Locale.ROOT));
            assertEquals(op, j.get("op").asText());
            assertTrue(j.get("gflops").asDouble() > 0, j.toString());
        }
        Object[] r = ScoreCommandTest.run("bench", "--gemm", "9x20x7", "--gemm-op", "TT", "--seconds", "0.1");
        assertEquals(2, r[0]);
        String err = ((String) r[2]).strip();
        assertTrue(err.contains("--gemm-op must be NT, NN or TN") && !err.contains("\n"), err);
    }
}
