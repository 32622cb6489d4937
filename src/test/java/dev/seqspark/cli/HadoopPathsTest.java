package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.io.OutputDir;
import dev.seqspark.testutil.KillableFileSystem;
import dev.seqspark.testutil.SparkTestSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every path of the CLI goes through Hadoop's FileSystem: URIs ({@code file:}), paths without a scheme on
 * the default file system (here a {@link KillableFileSystem} standing in for a cluster's, one without atomic
 * rename), and a scheme no file system serves, refused in one line.
 */
class HadoopPathsTest {
    @TempDir
    static Path tmp;
    static Path corpus;
    static Path config;

    @BeforeAll
    static void setUp() throws IOException {
        SparkTestSession.get();
        corpus = tmp.resolve("small.txt");
        List<String> lines = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        Files.write(corpus, lines.subList(40, 400), StandardCharsets.UTF_8);
        config = tmp.resolve("settings.properties");
        Files.writeString(config, "model.hidden_size = 16\ntrain.batch_size = 4\ntrain.num_steps = 10\n"
                + "dist.workers = 2\ngenerate.length = 5\n");
    }

    static String[] train(String output, String configArg, String dataPath, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--config", configArg, "--output", output,
                "--set", "data.path=" + dataPath));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    @Test
    void uriPathsForEveryArgument() throws IOException {
        String out = "file:" + tmp.resolve("uri-model");
        Object[] r = TrainCommandTest.run(train(out, "file:" + config, "file:" + corpus, "--set", "train.epochs=1"));
        assertEquals(0, r[0], (String) r[1]);
        Path model = tmp.resolve("uri-model");
        assertTrue(Files.exists(model.resolve(OutputDir.COMMIT)) && Files.exists(model.resolve(Checkpoint.FILE)));
        assertTrue(((String) r[1]).contains("train: model written to " + out), (String) r[1]);
        r = TrainCommandTest.run(train(out, "file:" + config, "file:" + corpus, "--resume", "--set", "train.epochs=2"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(2, Checkpoint.read(Location.local(model)).epochsDone());
        Path init = tmp.resolve("uri-init");
        r = TrainCommandTest.run(train("file:" + init, "file:" + config, "file:" + corpus, "--init", out,
                "--set", "train.epochs=1"));
        assertEquals(0, r[0], (String) r[1]);

        Path scores = tmp.resolve("uri-scores");
        Object[] s = ScoreCommandTest.run("score", "--model", out, "--input", "file:" + corpus, "--output", "file:" + scores);
        assertEquals(0, s[0], (String) s[2]);
        assertEquals(360, ScoreCommandTest.lastJsonLine((String) s[1]).get("records").asLong());
        Object[] g = ScoreCommandTest.run("generate", "--model", out, "--prefix", "tom", "--length", "5");
        assertEquals(0, g[0], (String) g[2]);
        assertTrue(((String) g[1]).startsWith("tom"), (String) g[1]);
    }

    /**
     * With {@code fs.defaultFS} set (as HADOOP_CONF_DIR sets it on a cluster), a path without a scheme is on
     * that file system, not the local disk: train writes there (committed with a marker: the stand-in has no
     * atomic rename), resumes from there byte for byte, and a missing input is looked for there.
     */
    @Test
    void aPathWithoutSchemeIsOnTheDefaultFileSystem() throws IOException {
        Configuration conf = SparkTestSession.get().sparkContext().hadoopConfiguration();
        String before = conf.get("fs.defaultFS");
        conf.set("fs." + KillableFileSystem.SCHEME + ".impl", KillableFileSystem.class.getName());
        conf.setBoolean("fs." + KillableFileSystem.SCHEME + ".impl.disable.cache", true);
        conf.set("fs.defaultFS", KillableFileSystem.SCHEME + ":///");
        try {
            Path out = tmp.resolve("default-fs-model");
            Object[] r = TrainCommandTest.run(train(out.toString(), config.toString(), corpus.toString(),
                    "--set", "train.epochs=1"));
            assertEquals(0, r[0], (String) r[1]);
            String err = (String) r[1];
            assertTrue(err.contains("train: corpus " + KillableFileSystem.SCHEME + ":" + corpus), err);
            assertTrue(err.contains("train: model written to " + KillableFileSystem.SCHEME + ":" + out), err);
            assertTrue(Files.exists(out.resolve(OutputDir.COMMIT)), "committed by its marker");
            r = TrainCommandTest.run(train(out.toString(), config.toString(), corpus.toString(), "--resume",
                    "--set", "train.epochs=2"));
            assertEquals(0, r[0], (String) r[1]);
            try (var s = Files.list(tmp)) {
                assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".default-fs-model.")), "no leftovers");
            }
            Object[] straight = TrainCommandTest.run(train("file:" + tmp.resolve("default-fs-straight"), "file:" + config,
                    "file:" + corpus, "--set", "train.epochs=2"));
            assertEquals(0, straight[0], (String) straight[1]);
            assertArrayEquals(Files.readAllBytes(tmp.resolve("default-fs-straight").resolve(ModelDir.WEIGHTS)),
                    Files.readAllBytes(out.resolve(ModelDir.WEIGHTS)), "resumed on the default file system, byte for byte");

            Object[] s = ScoreCommandTest.run("score", "--model", out.toString(), "--input",
                    tmp.resolve("missing.txt").toString(), "--output", tmp.resolve("nowhere").toString());
            ScoreCommandTest.fails("the input " + tmp.resolve("missing.txt") + " does not exist", s);
        } finally {
            if (before == null) {
                conf.unset("fs.defaultFS");
            } else {
                conf.set("fs.defaultFS", before);
            }
        }
    }

    @Test
    void aSchemeNoFileSystemServesIsOneLine() throws IOException {
        Object[] s = ScoreCommandTest.run("score", "--model", "nosuchfs://host/models/m", "--input", corpus.toString(),
                "--output", tmp.resolve("never").toString());
        ScoreCommandTest.fails("cannot use the path 'nosuchfs://host/models/m': No FileSystem for scheme \"nosuchfs\"", s);
        assertEquals(1, ((String) s[2]).strip().lines().count(), (String) s[2]);
        Object[] t = TrainCommandTest.run(train(tmp.resolve("never2").toString(), "nosuchfs:/x.properties", corpus.toString()));
        TrainCommandTest.fails("cannot use the path 'nosuchfs:/x.properties'", t);
        t = TrainCommandTest.run(train(tmp.resolve("never3").toString(), config.toString(), "nosuchfs:/corpus.txt"));
        TrainCommandTest.fails("cannot read the corpus nosuchfs:/corpus.txt: No FileSystem for scheme", t);
        t = TrainCommandTest.run(train(tmp.resolve("never4").toString(), tmp.resolve("none.properties").toString(),
                corpus.toString()));
        TrainCommandTest.fails("config file " + tmp.resolve("none.properties") + " does not exist", t);
        assertFalse(Files.exists(tmp.resolve("never")) || Files.exists(tmp.resolve("never2")));
    }
}
