package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.seqspark.io.Location;
import dev.seqspark.io.Model;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.score.Scorer;
import dev.seqspark.spark.LanguageModelScorer;
import dev.seqspark.testutil.Golden;
import dev.seqspark.testutil.SparkTestSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch scoring and generation end to end on the shared local Spark session. */
class ScoreCommandTest {
    @TempDir
    static Path tmp;
    static Path modelDir;
    static Model<LanguageModelSpec> model;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        model = ModelDir.read(Location.local(Golden.resource("torch_model")), LanguageModelSpec.class);
        modelDir = tmp.resolve("model");
        ModelDir.write(Location.local(modelDir), model, List.of(), false);
    }

    /** {exit code, stdout, stderr}. */
    static Object[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Object[] {code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static JsonNode lastJsonLine(String stdout) throws IOException {
        String[] lines = stdout.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    @Test
    void scoresTextLinesIncludingEmptyAndInvalidUtf8() throws IOException {
        Path in = tmp.resolve("in.txt");
        byte[] bad = {'T', 'o', 'm', (byte) 0xff, (byte) 0xfe, ' ', 's', 'a', 'i', 'd'};
        try (var os = Files.newOutputStream(in)) {
            os.write("The boys went down to the river.\n\nx\n".getBytes(StandardCharsets.UTF_8));
            os.write(bad);
            os.write("\nAunt Polly!\n".getBytes(StandardCharsets.UTF_8));
        }
        Path out = tmp.resolve("scores");
        Object[] r = run("score", "--model", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r[0], (String) r[2]);
        JsonNode totals = lastJsonLine((String) r[1]);
        assertEquals(5, totals.get("records").asLong());
        assertTrue(totals.get("tokens_per_second").asDouble() > 0);
        assertTrue(totals.has("executor_cores") && totals.has("seconds"));

        List<Row> rows = spark.read().json(out.toString()).orderBy("id").collectAsList();
        assertEquals(5, rows.size());
        String[] texts = {"The boys went down to the river.", "", "x", "Tom\uFFFD\uFFFD said", "Aunt Polly!"};
        Scorer s = new Scorer(model, 1, 256, 0);
        long total = 0;
        for (int i = 0; i < 5; i++) {
            Row row = rows.get(i);
            assertEquals(i, row.getLong(row.fieldIndex("id")));
            Scorer.Score e = s.score(List.of(s.encode(texts[i]))).get(0);
            assertEquals(e.tokens(), row.getLong(row.fieldIndex("tokens")), "record " + i);
            assertEquals(e.logLikelihood(), row.getDouble(row.fieldIndex("log_likelihood")), 1e-6 * Math.abs(e.logLikelihood()) + 1e-9);
            total += e.tokens();
        }
        assertTrue(rows.get(1).isNullAt(rows.get(1).fieldIndex("perplexity")), "empty record: perplexity null");
        assertTrue(rows.get(2).isNullAt(rows.get(2).fieldIndex("perplexity")), "one token: nothing predicted");
        assertEquals(total, totals.get("tokens").asLong());
        int fffd = s.encode("\uFFFD")[0];
        assertEquals(0, fffd, "malformed bytes become U+FFFD and score as <unk>");
    }

    @Test
    void parquetInputWithIdColumnAndTopK() {
        StructType schema = new StructType().add("doc", DataTypes.StringType).add("body", DataTypes.StringType)
                .add("lang", DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create("a", "Tom Sawyer", "en"),
                RowFactory.create("b", null, "en"), RowFactory.create("c", "Huck", "en")), schema);
        Path in = tmp.resolve("in.parquet");
        df.write().parquet(in.toString());
        Path out = tmp.resolve("scores-parquet");
        Object[] r = run("score", "--model", modelDir.toString(), "--input", in.toString(), "--output", out.toString(),
                "--format", "parquet", "--text-col", "body", "--id-col", "doc", "--top-k", "2");
        assertEquals(0, r[0], (String) r[2]);
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
        assertEquals(List.of("a", "b", "c"), rows.stream().map(x -> x.getString(0)).toList());
        List<Row> top = rows.get(0).getList(rows.get(0).fieldIndex("top_k"));
        assertEquals(2, top.size());
        assertTrue(rows.get(1).isNullAt(rows.get(1).fieldIndex("top_k")), "null text: no prediction");
        assertEquals(0, rows.get(1).getLong(rows.get(1).fieldIndex("tokens")));
    }

    @Test
    void transformerKeepsTheInputColumns() {
        StructType schema = new StructType().add("k", DataTypes.IntegerType).add("text", DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(7, "Becky Thatcher")), schema);
        Dataset<Row> scored = LanguageModelScorer.load(modelDir.toString()).transform(df);
        assertEquals(List.of("k", "text", "tokens", "log_likelihood", "perplexity", "bits_per_token"),
                Arrays.asList(scored.columns()));
        Row row = scored.collectAsList().get(0);
        assertEquals(7, row.getInt(0));
        assertEquals(13, row.getLong(2));
        assertEquals(-row.getDouble(3) / 13 / Math.log(2), row.getDouble(5), 1e-12);
    }

    static void fails(String fragment, Object[] r) {
        assertEquals(2, r[0], (String) r[2]);
        assertTrue(((String) r[2]).contains(fragment), "stderr should mention '" + fragment + "':\n" + r[2]);
        assertFalse(((String) r[2]).contains("\tat "), "no stack trace");
    }

    @Test
    void badInput() throws IOException {
        Path in = tmp.resolve("some.txt");
        Files.writeString(in, "hello\n");
        Path exists = Files.createDirectories(tmp.resolve("exists"));
        fails("exists; add --overwrite", run("score", "--model", modelDir.toString(), "--input", in.toString(),
                "--output", exists.toString()));
        fails("the input " + tmp.resolve("none.txt") + " does not exist", run("score", "--model", modelDir.toString(),
                "--input", tmp.resolve("none.txt").toString(), "--output", tmp.resolve("o1").toString()));
        // A truncated weights file and a header that lies about its size: clear errors, nothing written.
        Path broken = tmp.resolve("broken");
        ModelDir.write(Location.local(broken), model, List.of(), false);
        byte[] w = Files.readAllBytes(broken.resolve("weights.safetensors"));
        Files.write(broken.resolve("weights.safetensors"), Arrays.copyOf(w, w.length / 2));
        fails("truncated", run("score", "--model", broken.toString(), "--input", in.toString(), "--output",
                tmp.resolve("o2").toString()));
        java.nio.ByteBuffer.wrap(w).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(broken.resolve("weights.safetensors"), w);
        fails("does not fit", run("score", "--model", broken.toString(), "--input", in.toString(), "--output",
                tmp.resolve("o2").toString()));
        fails("no such model directory", run("score", "--model", tmp.resolve("nomodel").toString(), "--input",
                in.toString(), "--output", tmp.resolve("o2").toString()));
        assertFalse(Files.exists(tmp.resolve("o1")) || Files.exists(tmp.resolve("o2")), "no output written");
        // --overwrite replaces an earlier output, never a folder holding the user's own files.
        Path earlier = tmp.resolve("earlier");
        assertEquals(0, run("score", "--model", modelDir.toString(), "--input", in.toString(), "--output",
                earlier.toString())[0]);
        assertEquals(0, run("score", "--model", modelDir.toString(), "--input", in.toString(), "--output",
                earlier.toString(), "--overwrite")[0]);
        Files.writeString(exists.resolve("report.docx"), "mine");
        fails("refusing to replace " + exists + ": it holds 'report.docx'", run("score", "--model",
                modelDir.toString(), "--input", in.toString(), "--output", exists.toString(), "--overwrite"));
        fails("refusing to replace", run("generate", "--model", modelDir.toString(), "--prefixes", in.toString(),
                "--output", exists.toString(), "--overwrite"));
        assertEquals("mine", Files.readString(exists.resolve("report.docx")));
        Path noBody = tmp.resolve("nobody.parquet");
        spark.createDataFrame(List.of(RowFactory.create("x")), new StructType().add("body2", DataTypes.StringType))
                .write().parquet(noBody.toString());
        fails("no column 'text'", run("score", "--model", modelDir.toString(), "--input", noBody.toString(),
                "--output", tmp.resolve("o3").toString()));
    }

    @Test
    void generateFromAPrefixAndFromAFileOnSpark() throws IOException {
        Object[] r = run("generate", "--model", modelDir.toString(), "--prefix", "Tom", "--length", "20");
        assertEquals(0, r[0], (String) r[2]);
        String text = ((String) r[1]).strip();
        assertTrue(text.startsWith("Tom") && text.codePointCount(0, text.length()) >= 20, text);
        assertEquals(r[1], run("generate", "--model", modelDir.toString(), "--prefix", "Tom", "--length", "20")[1]);
        Path prefixes = tmp.resolve("prefixes.txt");
        Files.writeString(prefixes, "Tom\nThe \n\nHuck\n");
        Path out = tmp.resolve("generated");
        r = run("generate", "--model", modelDir.toString(), "--prefixes", prefixes.toString(), "--output", out.toString(),
                "--length", "10", "--temperature", "0.8", "--seed", "5");
        assertEquals(0, r[0], (String) r[2]);
        List<Row> rows = spark.read().json(out.toString()).orderBy("id").collectAsList();
        assertEquals(4, rows.size());
        assertTrue(rows.get(3).getString(rows.get(3).fieldIndex("text")).startsWith("Huck"));
        assertTrue(rows.get(2).isNullAt(rows.get(2).fieldIndex("text")), "an empty prefix generates nothing");
    }
}
