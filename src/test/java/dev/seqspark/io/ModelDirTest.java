package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.nn.CellType;
import dev.seqspark.text.TokenizerConfig;
import dev.seqspark.text.Vocab;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirTest {
    @TempDir
    Path tmp;

    static Model<LanguageModelSpec> model(int embedding) {
        LanguageModelSpec spec = new LanguageModelSpec(CellType.LSTM, 4, embedding, 5, 2, true, 0.1);
        return new Model<>(new ModelConfig<>(spec, new TokenizerConfig(TokenizerConfig.Level.WORD, true, false)),
                new Vocab(List.of("<unk>", "a", "b", "\n")), spec.initParams(3).values);
    }

    @Test
    void roundTrip() throws IOException {
        Model<LanguageModelSpec> m = model(3);
        Path dir = tmp.resolve("m");
        ModelDir.write(Location.local(dir), m, List.of(JsonNodeFactory.instance.objectNode().put("epoch", 1)), false);
        Model<LanguageModelSpec> back = ModelDir.read(Location.local(dir), LanguageModelSpec.class);
        assertEquals(m.config(), back.config());
        assertEquals(m.vocab().tokens(), back.vocab().tokens());
        assertArrayEquals(m.weights(), back.weights());
        assertEquals(1, ModelDir.readMetrics(Location.local(dir)).get(0).get("epoch").asInt());
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(dir), s.toList(), "no temporary directory left behind");
        }
    }

    @Test
    void existingDirectoryNeedsReplace() throws IOException {
        Path dir = tmp.resolve("m");
        ModelDir.write(Location.local(dir), model(0), List.of(), false);
        assertThrows(FileAlreadyExistsException.class, () -> ModelDir.write(Location.local(dir), model(3), List.of(), false));
        ModelDir.write(Location.local(dir), model(3), List.of(), true);
        assertEquals(3, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
    }

    @Test
    void failedWriteLeavesThePreviousModel() throws IOException {
        Path dir = tmp.resolve("m");
        ModelDir.write(Location.local(dir), model(0), List.of(), false);
        assertThrows(IOException.class, () -> OutputDir.write(Location.local(dir), true, d -> {
            d.child("config.json").write("{".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals(0, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
    }

    private void fails(String fragment, Path dir) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDir.read(Location.local(dir), LanguageModelSpec.class));
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }

    @Test
    void inconsistentDirectories() throws IOException {
        Path dir = tmp.resolve("m");
        ModelDir.write(Location.local(dir), model(0), List.of(), false);
        fails("no such model directory", tmp.resolve("nothing"));
        Files.writeString(dir.resolve("vocab.json"), "{\"tokens\":[\"<unk>\",\"a\"]}");
        fails("has 2 tokens, but config.json says vocab_size 4", dir);
        Files.writeString(dir.resolve("vocab.json"), "{\"tokens\":[\"a\",\"<unk>\",\"b\",\"c\"]}");
        fails("must start with <unk>", dir);
        Files.delete(dir.resolve("vocab.json"));
        fails("vocab.json: missing", dir);
        String cfg = Files.readString(dir.resolve("config.json"));
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"lstm\"", "\"transformer\""));
        fails("unknown cell 'transformer'", dir);
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"hidden_size\" : 5", "\"hidden_size\" : 0"));
        fails("'hidden_size' must be an integer in [1, 65536], found 0", dir);
        Files.writeString(dir.resolve("config.json"), cfg.replace("{", "{\"bidirectional\": true, "));
        fails("language model is causal", dir);
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"input_size\" : 4", "\"input_size\" : 7"));
        fails("input_size 7 should be 4", dir);
        Files.writeString(dir.resolve("config.json"), "not json");
        fails("not valid JSON", dir);
        assertFalse(Files.exists(dir.resolve("vocab.json")));
    }
}
