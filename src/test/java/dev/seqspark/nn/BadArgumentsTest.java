package dev.seqspark.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.LanguageModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Invalid shapes and options fail at once with a message naming the problem. */
class BadArgumentsTest {

    private static void fails(String expectedFragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expectedFragment),
                "message '" + e.getMessage() + "' should mention '" + expectedFragment + "'");
    }

    private static Recurrent gru(int in, int hidden) {
        RecurrentConfig cfg = RecurrentConfig.of(CellType.GRU, in, hidden, 1);
        ParamLayout layout = new ParamLayout();
        cfg.declare(layout, "");
        return new Recurrent(cfg, new Params(layout), "");
    }

    @Test
    void configValues() {
        fails("hidden_size must be positive, got 0", () -> RecurrentConfig.of(CellType.GRU, 3, 0, 1));
        fails("input_size must be positive", () -> RecurrentConfig.of(CellType.LSTM, 0, 4, 1));
        fails("num_layers must be positive", () -> RecurrentConfig.of(CellType.LSTM, 2, 4, 0));
        fails("dropout must be in [0, 1), got 1.0",
                () -> new RecurrentConfig(CellType.GRU, 3, 4, 2, true, 1.0, false, false));
        fails("dropout must be in [0, 1), got -0.1",
                () -> new RecurrentConfig(CellType.GRU, 3, 4, 2, true, -0.1, false, false));
        fails("dropout must be in [0, 1), got NaN",
                () -> new RecurrentConfig(CellType.GRU, 3, 4, 2, true, Double.NaN, false, false));
        fails("unknown cell 'transformer'", () -> CellType.fromId("transformer"));
        fails("vocab_size must be positive", () -> new LanguageModelSpec(CellType.GRU, 0, 0, 4, 1, true, 0));
        fails("embedding_dim must be 0", () -> new LanguageModelSpec(CellType.GRU, 5, -1, 4, 1, true, 0));
    }

    @Test
    void inputShapes() {
        Recurrent rnn = gru(3, 4);
        fails("expected at least seq_len×batch×input_size = 5×2×3 = 30", () -> rnn.forward(new float[28], 5, 2, null, null, null, null));
        fails("sequence length 6 outside [0, seq_len=5]",
                () -> rnn.forward(new float[30], 5, 2, new int[] {6, 2}, null, null, null));
        fails("sequence length -1", () -> rnn.forward(new float[30], 5, 2, new int[] {5, -1}, null, null, null));
        fails("lengths has 3 entries for a batch of 2",
                () -> rnn.forward(new float[30], 5, 2, new int[] {5, 2, 1}, null, null, null));
        fails("h0 has 7 values", () -> rnn.forward(new float[30], 5, 2, null, new float[7], null, null));
        fails("only an LSTM has a cell state", () -> rnn.forward(new float[30], 5, 2, null, null, new float[8], null));
        fails("token id 3 outside the vocabulary [0, 3)",
                () -> rnn.forwardTokens(new int[] {0, 1, 3, 2}, 2, 2, null, null, null, null));
        fails("seq_len and batch must be positive", () -> rnn.forward(new float[0], 0, 2, null, null, null, null));
    }

    @Test
    void backwardBeforeForward() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> gru(3, 4).backward(null, null, null));
        assertEquals("backward needs a forward first", e.getMessage());
    }

    @Test
    void unsortedLengthsAreAccepted() {
        // As pack_padded_sequence(enforce_sorted=False): any order works (the golden cases use [5, 2, 4]).
        Recurrent rnn = gru(3, 4);
        assertEquals(2 * 5 * 4, rnn.forward(new float[30], 5, 2, new int[] {2, 5}, null, null, null).output().length);
    }
}
