package dev.seqspark.cli;

import static dev.seqspark.cli.TrainCommandTest.fails;
import static dev.seqspark.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.testutil.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --task classify} and {@code predict} end to end on the shared local Spark session, with the small
 * authorship fixture: per-epoch metrics, checkpoints and a byte-identical resume, the test split's summary,
 * predictions with label names and per-class probabilities (null for empty texts, counted), evaluation with
 * unseen labels counted, the other formats, and every bad input as one line with exit code 2.
 */
class ClassifyCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static Path train;
    static Path test;

    @BeforeAll
    static void setUp() throws IOException {
        SparkTestSession.get();
        List<String> lines = Files.readAllLines(Path.of("src/test/resources/classify/authorship_small.tsv"), StandardCharsets.UTF_8);
        List<String> tr = new ArrayList<>();
        List<String> te = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            (i % 6 == 5 ? te : tr).add(lines.get(i));
        }
        tr.add("");                     // a blank line is not a record
        tr.add("twain\t");              // an empty text is skipped and counted
        train = tmp.resolve("train.tsv");
        test = tmp.resolve("test.tsv");
        Files.write(train, tr, StandardCharsets.UTF_8);
        Files.write(test, te, StandardCharsets.UTF_8);
    }

    static String[] classify(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--task", "classify", "--config", "conf/authorship.properties",
                "--output", out.toString(), "--set", "data.path=" + train, "--set", "data.test_path=" + test,
                "--set", "model.embedding_dim=8", "--set", "model.blocks=lstm:8,gru:8", "--set", "train.batch_size=16",
                "--set", "data.max_length=30", "--set", "dist.workers=2", "--set", "train.epochs=2"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    /** {exit code, stderr, stdout}. */
    static Object[] runOut(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Object[] r = run(args);
            return new Object[] {r[0], r[1], buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
        }
    }

    static JsonNode lastJson(String stdout) throws IOException {
        List<String> lines = stdout.strip().lines().filter(l -> l.startsWith("{")).toList();
        return JSON.readTree(lines.get(lines.size() - 1));
    }

    @Test
    void trainsWithMetricsAndATestSummaryAndResumesByteForByte() throws IOException {
        Path straight = tmp.resolve("straight");
        Object[] r = runOut(classify(straight, "--set", "train.epochs=3"));
        String err = (String) r[1];
        assertEquals(0, r[0], err);
        assertTrue(err.contains("train: epoch 3/3  train loss"), err);
        assertTrue(err.contains("accuracy") && err.contains("macro-F1"), err);
        assertTrue(err.contains("1 empty texts skipped"), err);
        assertTrue(err.contains("train: test ") && err.contains(test.toString()), err);
        assertTrue(err.contains("true\\pred"), "the confusion matrix:\n" + err);
        JsonNode summary = lastJson((String) r[2]);
        assertEquals(40, summary.get("evaluated").asLong());
        assertEquals(List.of("twain", "dickens"), List.of(summary.get("confusion").get("labels").get(0).asText(),
                summary.get("confusion").get("labels").get(1).asText()), "101 twain labels (one with an empty text) to 100");
        List<JsonNode> metrics = ModelDir.readMetrics(Location.local(straight));
        assertEquals(3, metrics.size());
        for (String k : List.of("train_loss", "valid_loss", "valid_accuracy", "valid_macro_f1", "records_per_second",
                "tokens_per_second", "records", "workers", "rounds")) {
            assertTrue(metrics.get(2).has(k), k);
        }
        Model<ClassifierSpec> m = ModelDir.read(Location.local(straight), ClassifierSpec.class);
        assertEquals(List.of("twain", "dickens"), m.labels());
        assertEquals(30, m.config().maxLength());
        assertEquals("classify", Checkpoint.read(Location.local(straight)).settings().get("task"));

        Path resumed = tmp.resolve("resumed");
        assertEquals(0, run(classify(resumed, "--set", "train.epochs=1"))[0]);
        Object[] again = run("train", "--output", resumed.toString(), "--resume", "--set", "train.epochs=3");
        assertEquals(0, again[0], (String) again[1]);
        assertArrayEquals(Files.readAllBytes(straight.resolve("weights.safetensors")),
                Files.readAllBytes(resumed.resolve("weights.safetensors")), "a resumed run ends where an unbroken one does");
        fails("model.pooling cannot change when resuming: the run has model.pooling=last, --set asks for mean",
                run("train", "--output", resumed.toString(), "--resume", "--set", "model.pooling=mean"));
        fails("task cannot change when resuming", run("train", "--task", "lm", "--output", resumed.toString(), "--resume"));
    }

    @Test
    void predictWritesLabelsAndProbabilitiesAndEvaluates() throws IOException {
        Path model = tmp.resolve("for-predict");
        assertEquals(0, run(classify(model, "--set", "data.test_path="))[0]);
        Path in = tmp.resolve("predict.tsv");
        List<String> lines = new ArrayList<>(Files.readAllLines(test, StandardCharsets.UTF_8));
        lines.add("austen\tIt is a truth universally acknowledged, that a single man in possession of a good fortune");
        lines.add("twain\t");
        lines.add("dickens\t12 34 !!");
        Files.write(in, lines, StandardCharsets.UTF_8);
        Path out = tmp.resolve("predictions");
        Object[] r = runOut("predict", "--model", model.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r[0], (String) r[1]);
        JsonNode s = lastJson((String) r[2]);
        assertEquals(43, s.get("records").asLong());
        assertEquals(2, s.get("no_token").asLong(), "an empty text and one with nothing left after cleaning");
        assertEquals(1, s.get("unseen_labels").asLong());
        assertEquals(40, s.get("evaluated").asLong());
        assertTrue(((String) r[1]).contains("1 record(s) have labels the model does not have"), (String) r[1]);
        List<JsonNode> rows = new ArrayList<>();
        try (Stream<Path> parts = Files.list(out)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    rows.add(JSON.readTree(l));
                }
            }
        }
        assertEquals(43, rows.size());
        rows.sort((a, b) -> Long.compare(a.get("id").asLong(), b.get("id").asLong()));
        JsonNode first = rows.get(0);
        assertTrue(List.of("dickens", "twain").contains(first.get("prediction").asText()), first.toString());
        double p = first.get("probability").get("dickens").asDouble() + first.get("probability").get("twain").asDouble();
        assertEquals(1.0, p, 1e-9);
        assertEquals(first.get("prediction").asText(), first.get("probability").get("dickens").asDouble() > 0.5
                ? "dickens" : "twain");
        assertFalse(rows.get(41).has("prediction") && !rows.get(41).get("prediction").isNull(), "no token: no prediction");
        assertEquals("austen", rows.get(40).get("label").asText());
        // Text input (one record per line, no labels) and CSV output.
        Path plain = tmp.resolve("plain.txt");
        Files.writeString(plain, "Tom said nothing and went home.\n\nThe old man shook his head.\n");
        Path csv = tmp.resolve("csv-out");
        r = runOut("predict", "--model", model.toString(), "--input", plain.toString(), "--output", csv.toString(),
                "--format", "csv");
        assertEquals(0, r[0], (String) r[1]);
        JsonNode t = lastJson((String) r[2]);
        assertEquals(3, t.get("records").asLong());
        assertEquals(1, t.get("no_token").asLong());
        assertFalse(t.has("accuracy"), "no labels, no accuracy");
    }

    @Test
    void badInputIsAClearError() throws IOException {
        Path noTab = tmp.resolve("notab.tsv");
        Files.writeString(noTab, "twain\tTom went home.\njust a line without a label\n");
        fails("1 line(s) without a tab (expected label<TAB>text), e.g. 'just a line without a label'",
                run(classify(tmp.resolve("b1"), "--set", "data.path=" + noTab)));
        Path one = tmp.resolve("one.tsv");
        Files.writeString(one, "twain\tTom went home.\ntwain\tHuck came too.\n");
        fails("has a single class 'twain'; a classifier needs at least two",
                run(classify(tmp.resolve("b2"), "--set", "data.path=" + one)));
        Path json = tmp.resolve("nolabel.json");
        Files.writeString(json, "{\"text\": \"Tom went home.\"}\n{\"text\": \"Nell slept.\"}\n");
        fails("has no label column 'label' (columns: text); name it with data.label_col",
                run(classify(tmp.resolve("b3"), "--set", "data.path=" + json)));
        fails("model.cell (from --set) is a setting of --task lm, not of --task classify; a classifier's recurrent "
                + "layers are model.blocks", run(classify(tmp.resolve("b4"), "--set", "model.cell=gru")));
        fails("invalid value 'lstm:big' for model.blocks", run(classify(tmp.resolve("b5"), "--set", "model.blocks=lstm:big")));
        fails("class weights: 'austen' is not a class",
                run(classify(tmp.resolve("b6"), "--set", "train.class_weights=austen=2")));
        Path lm = tmp.resolve("lm");
        assertEquals(0, run("train", "--config", "conf/char-gru.properties", "--output", lm.toString(), "--set",
                "data.path=" + train, "--set", "model.hidden_size=8", "--set", "train.batch_size=4", "--set",
                "train.num_steps=8", "--set", "train.epochs=1", "--set", "dist.workers=1", "--set", "generate.length=2")[0]);
        fails("a language model (no \"task\": \"classify\"), not a classifier",
                run("predict", "--model", lm.toString(), "--input", test.toString(), "--output", tmp.resolve("o").toString()));
        Path cls = tmp.resolve("cls");
        assertEquals(0, run(classify(cls, "--set", "train.epochs=1", "--set", "data.test_path="))[0]);
        fails("a classify model (\"task\": \"classify\"), not a language model; use predict",
                run("score", "--model", cls.toString(), "--input", test.toString(), "--output", tmp.resolve("o2").toString()));
        fails("the input " + tmp.resolve("missing.tsv") + " does not exist", run("predict", "--model", cls.toString(),
                "--input", tmp.resolve("missing.tsv").toString(), "--output", tmp.resolve("o3").toString()));
        fails("data.path must name the training records", run("train", "--task", "classify", "--output",
                tmp.resolve("b7").toString()));
        assertFalse(Files.exists(tmp.resolve("b1")) || Files.exists(tmp.resolve("b2")), "nothing written");
    }
}
