package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.score.Scorer;
import dev.seqspark.testutil.Golden;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Word-level models with an embedding (model.embedding_dim &gt; 0) through every command: train (with its
 * closing sample), generate from a multi-word prefix, score. Against PyTorch: golden/word_model (a 2-layer
 * LSTM with a 16-wide embedding over a 4,009-word vocabulary, saved by tools/golden/make_lm_golden.py) scores
 * every record as PyTorch does, within 1e-4 relative, and its greedy continuation is PyTorch's.
 */
class WordModelTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static JsonNode golden;

    @BeforeAll
    static void setUp() {
        spark = SparkTestSession.get();
        golden = Golden.load("/golden/word_model_scores.json");
    }

    static List<String> records() {
        List<String> out = new ArrayList<>();
        golden.get("records").forEach(r -> out.add(r.asText()));
        return out;
    }

    @Test
    void scoresEveryRecordAsPyTorchDoes() throws IOException {
        Path in = tmp.resolve("records.txt");
        Files.write(in, records(), StandardCharsets.UTF_8);
        Path out = tmp.resolve("scores");
        // Batches of 16 records shrink as records end: the embedding's buffer outlives a batch's size.
        Object[] r = ScoreCommandTest.run("score", "--model", Golden.resource("word_model").toString(), "--input",
                in.toString(), "--output", out.toString(), "--batch-size", "16");
        assertEquals(0, r[0], (String) r[2]);
        List<Row> rows = spark.read().json(out.toString()).orderBy("id").collectAsList();
        assertEquals(golden.get("records").size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            double expected = golden.get("log_likelihood").get(i).asDouble();
            assertEquals(golden.get("tokens").get(i).asLong(), row.getLong(row.fieldIndex("tokens")), "record " + i);
            assertEquals(expected, row.getDouble(row.fieldIndex("log_likelihood")), 1e-4 * Math.abs(expected) + 1e-9,
                    "record " + i + ": " + golden.get("records").get(i).asText());
        }
    }

    @Test
    void aRecordScoresTheSameInAnyBatch() {
        Model<LanguageModelSpec> m = ModelDir.read(Location.local(Golden.resource("word_model")), LanguageModelSpec.class);
        Scorer one = new Scorer(m, 1, 256, 0);
        Scorer many = new Scorer(m, 7, 32, 0);
        List<int[]> ids = new ArrayList<>();
        for (String s : records()) {
            ids.add(one.encode(s));
        }
        List<Scorer.Score> a = many.score(ids);
        for (int i = 0; i < ids.size(); i += 13) {
            double alone = one.score(List.of(ids.get(i))).get(0).logLikelihood();
            assertEquals(alone, a.get(i).logLikelihood(), 1e-5 * Math.abs(alone) + 1e-9, "record " + i);
        }
    }

    @Test
    void generatesPyTorchsGreedyContinuation() {
        JsonNode g = golden.get("generate");
        Object[] r = ScoreCommandTest.run("generate", "--model", Golden.resource("word_model").toString(), "--prefix",
                g.get("prefix").asText(), "--length", g.get("length").asText());
        assertEquals(0, r[0], (String) r[2]);
        assertEquals(g.get("text").asText(), ((String) r[1]).strip());
    }

    @Test
    void trainsGeneratesAndScoresAWordModelWithAnEmbedding() throws IOException {
        Path corpus = tmp.resolve("words.txt");
        List<String> lines = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        Files.write(corpus, lines.subList(40, 1400), StandardCharsets.UTF_8);
        Path model = tmp.resolve("trained");
        Object[] r = TrainCommandTest.run("train", "--output", model.toString(), "--set", "data.path=" + corpus,
                "--set", "data.tokenizer.level=word", "--set", "data.tokenizer.lowercase=true",
                "--set", "data.tokenizer.letters_only=true", "--set", "model.embedding_dim=12",
                "--set", "model.cell=lstm", "--set", "model.num_layers=2", "--set", "model.hidden_size=16",
                "--set", "train.batch_size=4", "--set", "train.num_steps=8", "--set", "train.epochs=1",
                "--set", "dist.workers=2", "--set", "generate.prefix=tom said to", "--set", "generate.length=6");
        assertEquals(0, r[0], (String) r[1]);
        Model<LanguageModelSpec> m = ModelDir.read(Location.local(model), LanguageModelSpec.class);
        assertEquals(12, m.spec().embeddingDim());

        Object[] g = ScoreCommandTest.run("generate", "--model", model.toString(), "--prefix", "tom said to",
                "--length", "5", "--temperature", "1", "--seed", "3");
        assertEquals(0, g[0], (String) g[2]);
        String text = ((String) g[1]).strip();
        assertTrue(text.startsWith("tom said to "), text);
        assertEquals(8, text.split(" ").length, "3 prefix words and 5 generated: " + text);

        Path in = tmp.resolve("some-lines.txt");
        Files.write(in, lines.subList(2000, 2300), StandardCharsets.UTF_8);
        Path out = tmp.resolve("trained-scores");
        Object[] s = ScoreCommandTest.run("score", "--model", model.toString(), "--input", in.toString(), "--output",
                out.toString(), "--batch-size", "32");
        assertEquals(0, s[0], (String) s[2]);
        assertEquals(300, spark.read().json(out.toString()).count());
    }
}
