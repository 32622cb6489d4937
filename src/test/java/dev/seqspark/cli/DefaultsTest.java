package dev.seqspark.cli;

import static dev.seqspark.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.ClassifierSpec;
import dev.seqspark.spark.LanguageModelEstimator;
import dev.seqspark.spark.LanguageModelScorer;
import dev.seqspark.spark.SequenceClassificationModel;
import dev.seqspark.spark.SequenceClassifier;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

/**
 * Each task trains with nothing but its data, on every setting's default: {@code seqspark train} with only
 * data.path (and data.test_path), and each Spark ML estimator with only a Dataset. The data is small so that the
 * defaults (10 epochs, GRU-256; LSTM-128 → GRU-128) stay quick.
 */
class DefaultsTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static List<String> text;
    static List<String> records;

    @BeforeAll
    static void setUp() throws IOException {
        spark = SparkTestSession.get();
        text = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8).subList(100, 200);
        List<String> all = Files.readAllLines(Path.of("src/test/resources/classify/authorship_small.tsv"),
                StandardCharsets.UTF_8);
        records = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 6) {   // both authors
            records.add(all.get(i));
        }
    }

    @Test
    void theLanguageModelTrainsWithOnlyItsCorpus() throws IOException {
        Path corpus = tmp.resolve("corpus.txt");
        Files.write(corpus, text, StandardCharsets.UTF_8);
        Path out = tmp.resolve("lm");
        Object[] r = run("train", "--output", out.toString(), "--set", "data.path=" + corpus);
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("train: epoch 10/10"), (String) r[1]);
        assertEquals(10, ModelDir.readMetrics(Location.local(out)).size());

        Dataset<Row> df = spark.createDataFrame(text.stream().map(RowFactory::create).toList(),
                new StructType().add("text", DataTypes.StringType));
        LanguageModelScorer scorer = new LanguageModelEstimator().fit(df);
        assertEquals(256, scorer.model().spec().hiddenSize());
        assertEquals(df.count(), scorer.transform(df).filter("perplexity > 0").count() + df.filter("length(text) < 2").count());
    }

    @Test
    void theClassifierTrainsWithOnlyItsRecords() throws IOException {
        Path train = tmp.resolve("train.tsv");
        Path test = tmp.resolve("test.tsv");
        Files.write(train, records.subList(0, 32), StandardCharsets.UTF_8);
        Files.write(test, records.subList(32, records.size()), StandardCharsets.UTF_8);
        Path out = tmp.resolve("classify");
        Object[] r = run("train", "--task", "classify", "--output", out.toString(), "--set", "data.path=" + train,
                "--set", "data.test_path=" + test);
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("train: test "), (String) r[1]);
        assertEquals(10, ModelDir.readMetrics(Location.local(out)).size());

        List<Row> rows = new ArrayList<>();
        for (String line : records) {
            int tab = line.indexOf('\t');
            rows.add(RowFactory.create(line.substring(0, tab), line.substring(tab + 1)));
        }
        Dataset<Row> df = spark.createDataFrame(rows, new StructType().add("label", DataTypes.StringType)
                .add("text", DataTypes.StringType));
        SequenceClassificationModel m = new SequenceClassifier().fit(df);
        assertEquals("lstm:128,gru:128", ClassifierSpec.formatBlocks(m.model().spec().blocks()));
        assertEquals(df.count(), m.transform(df).filter("prediction is not null").count());
    }
}
