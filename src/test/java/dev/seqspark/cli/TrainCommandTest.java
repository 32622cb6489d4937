package dev.seqspark.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.io.Checkpoint;
import dev.seqspark.io.Location;
import dev.seqspark.io.ModelDir;
import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.SparkTestSession;
import dev.seqspark.train.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train command end to end on the shared local Spark session: outputs, resume, and every bad input. */
class TrainCommandTest {
    @TempDir
    static Path tmp;
    static Path corpus;

    @BeforeAll
    static void setUp() throws IOException {
        SparkTestSession.get();
        corpus = tmp.resolve("small.txt");
        List<String> lines = Files.readAllLines(Path.of("data/tom_sawyer.txt"), StandardCharsets.UTF_8);
        Files.write(corpus, lines.subList(40, 500), StandardCharsets.UTF_8);
    }

    /** Runs the CLI; returns {exit code, stderr}. */
    static Object[] run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Object[] {code, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(err);
        }
    }

    static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--config", "conf/char-gru.properties", "--output", out.toString(),
                "--set", "data.path=" + corpus, "--set", "model.hidden_size=16", "--set", "train.batch_size=4",
                "--set", "train.num_steps=10", "--set", "dist.workers=2", "--set", "generate.length=5"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    @Test
    void trainsWritesAModelAndResumesByteForByte() throws IOException {
        Path straight = tmp.resolve("straight");
        Object[] r = run(train(straight, "--set", "train.epochs=3"));
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("train: epoch 3/3"), (String) r[1]);
        assertEquals(3, ModelDir.readMetrics(Location.local(straight)).size());
        assertEquals(28, ModelDir.read(Location.local(straight), LanguageModelSpec.class).vocab().size());
        assertTrue(ModelDir.readMetrics(Location.local(straight)).get(2).get("tokens_per_second").asDouble() > 0);

        Path resumed = tmp.resolve("resumed");
        assertEquals(0, run(train(resumed, "--set", "train.epochs=1"))[0]);
        assertEquals(1, Checkpoint.read(Location.local(resumed)).epochsDone());
        Object[] again = run("train", "--output", resumed.toString(), "--resume", "--set", "train.epochs=3");
        assertEquals(0, again[0], (String) again[1]);
        assertArrayEquals(Files.readAllBytes(straight.resolve("weights.safetensors")),
                Files.readAllBytes(resumed.resolve("weights.safetensors")), "a resumed run ends where an unbroken one does");
        assertEquals(3, ModelDir.readMetrics(Location.local(resumed)).size());
    }

    @Test
    void initStartsFromASavedModelsWeightsVocabularyAndTokenizer() throws IOException {
        Path base = tmp.resolve("base");
        assertEquals(0, run(train(base, "--set", "train.epochs=1", "--set", "model.cell=lstm"))[0]);
        Path tuned = tmp.resolve("tuned");
        // The settings ask for a GRU and raw characters; --init's model (an LSTM, letters-only) wins.
        Object[] r = run(train(tuned, "--init", base.toString(), "--set", "train.epochs=1", "--set", "model.cell=gru",
                "--set", "data.tokenizer.letters_only=false"));
        assertEquals(0, r[0], (String) r[1]);
        var b = ModelDir.read(Location.local(base), LanguageModelSpec.class);
        var t = ModelDir.read(Location.local(tuned), LanguageModelSpec.class);
        assertEquals(b.config(), t.config());
        assertEquals(b.vocab().tokens(), t.vocab().tokens());
        assertFalse(Arrays.equals(b.weights(), t.weights()), "it trained on");
        double before = ModelDir.readMetrics(Location.local(base)).get(0).get("valid_perplexity").asDouble();
        double after = ModelDir.readMetrics(Location.local(tuned)).get(0).get("valid_perplexity").asDouble();
        assertTrue(after < before, "a second epoch from the saved weights improves: " + before + " → " + after);
    }

    static void fails(String fragment, Object[] r) {
        assertEquals(2, r[0], (String) r[1]);
        String err = (String) r[1];
        assertTrue(err.contains(fragment), "stderr should mention '" + fragment + "':\n" + err);
        assertFalse(err.contains("\tat "), "no stack trace:\n" + err);
    }

    @Test
    void badInputIsAClearError() throws IOException {
        fails("the corpus " + tmp.resolve("nope.txt") + " does not exist",
                run(train(tmp.resolve("o1"), "--set", "data.path=" + tmp.resolve("nope.txt"))));
        Path empty = tmp.resolve("empty.txt");
        Files.writeString(empty, "\n12 34 !!\n\n");
        fails("has no tokens", run(train(tmp.resolve("o2"), "--set", "data.path=" + empty)));
        fails("too small for 400 workers", run(train(tmp.resolve("o3"), "--set", "dist.workers=400")));
        fails("unknown setting 'train.epoch'", run(train(tmp.resolve("o4"), "--set", "train.epoch=3")));
        fails("invalid value 'many' for train.epochs", run(train(tmp.resolve("o5"), "--set", "train.epochs=many")));
        fails("nothing to resume", run("train", "--output", tmp.resolve("o6").toString(), "--resume"));
        Path exists = Files.createDirectories(tmp.resolve("exists"));
        fails("exists; add --overwrite", run(train(exists)));
        assertFalse(Files.exists(tmp.resolve("o1")));
    }

    @Test
    void overwriteReplacesOnlyAModelDirectoryOrAnEmptyFolder() throws IOException {
        Path users = Files.createDirectories(tmp.resolve("users-folder"));
        Files.writeString(users.resolve("notes.txt"), "mine");
        Object[] r = run(train(users, "--overwrite", "--set", "train.epochs=1"));
        fails("refusing to replace " + users.toAbsolutePath().normalize(), r);
        assertEquals(1, ((String) r[1]).strip().lines().filter(l -> l.contains("error")).count(), (String) r[1]);
        assertEquals("mine", Files.readString(users.resolve("notes.txt")));
        try (var s = Files.list(users)) {
            assertEquals(1, s.count(), "nothing written into it");
        }
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".users-folder")), "no temporary siblings");
        }
        Path empty = Files.createDirectories(tmp.resolve("empty-folder"));
        assertEquals(0, run(train(empty, "--overwrite", "--set", "train.epochs=1"))[0]);
        assertEquals(0, run(train(empty, "--overwrite", "--set", "train.epochs=1"))[0], "a model directory is ours");
    }

    @Test
    void resumingTheSameCommandIsAcceptedAndARealChangeIsNamed() throws IOException {
        Path out = tmp.resolve("same-command");
        assertEquals(0, run(train(out, "--set", "train.epochs=1"))[0]);
        assertEquals("2", Checkpoint.read(Location.local(out)).settings().get("dist.workers"), "W is stored resolved");
        // The very same command line (config file and every --set) plus --resume and more epochs.
        Object[] r = run(train(out, "--resume", "--set", "train.epochs=2"));
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(2, Checkpoint.read(Location.local(out)).epochsDone());
        fails("model.cell cannot change when resuming: the run has model.cell=gru, --set asks for lstm",
                run(train(out, "--resume", "--set", "train.epochs=3", "--set", "model.cell=lstm")));
        fails("train.lr cannot change when resuming: the run has train.lr=1.0, --set asks for 0.5",
                run(train(out, "--resume", "--set", "train.epochs=3", "--set", "train.lr=0.5")));
        Path cfg = tmp.resolve("other.properties");
        Files.writeString(cfg, "train.batch_size = 8\n");
        fails("train.batch_size cannot change when resuming: the run has train.batch_size=4, " + cfg + " asks for 8",
                run("train", "--config", cfg.toString(), "--output", out.toString(), "--resume"));
        assertEquals(0, run(train(out, "--resume", "--set", "train.epochs=3", "--set", "train.lr=1",
                "--set", "dist.workers=0"))[0], "1 = 1.0, and 0 (all task slots) keeps the stored W");
        assertEquals(3, Checkpoint.read(Location.local(out)).epochsDone());
    }

    @Test
    void resumeRecoversACheckpointRenamedAsideByAKill() throws IOException {
        Path straight = tmp.resolve("kill-straight");
        assertEquals(0, run(train(straight, "--set", "train.epochs=2"))[0]);
        Path out = tmp.resolve("kill");
        assertEquals(0, run(train(out, "--set", "train.epochs=1"))[0]);
        // Killed between the two renames of the next checkpoint: DIR is gone, its data sits in .DIR.old-T.
        Files.move(out, tmp.resolve(".kill.old-1700000000000"));
        Files.createDirectories(tmp.resolve(".kill.tmp-42"));
        Object[] r = run(train(out, "--resume", "--set", "train.epochs=2"));
        assertEquals(0, r[0], (String) r[1]);
        assertArrayEquals(Files.readAllBytes(straight.resolve("weights.safetensors")),
                Files.readAllBytes(out.resolve("weights.safetensors")));
        try (var s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".kill.")), "leftovers removed");
        }
    }

    @Test
    void theDefaultOuterUpdateIsBmufWithBlocksThatShrinkWithW() {
        Settings s = Settings.of(java.util.Map.of(), "--set", List.of());
        assertEquals(List.of(0, 50, 13, 8, 8, 8, 8), List.of(s.syncEvery(1).batches(0), s.syncEvery(2).batches(0),
                s.syncEvery(4).batches(0), s.syncEvery(5).batches(0), s.syncEvery(8).batches(0),
                s.syncEvery(16).batches(0), s.syncEvery(64).batches(0)));
        assertEquals(List.of(2, 8, 50), List.of(s.syncEvery(16, 60).batches(1), s.syncEvery(16, 449).batches(0),
                s.syncEvery(2, 148).batches(0)), "an epoch keeps 25 rounds; the short-block rule first");
        assertEquals(List.of(1, 2, 2), List.of(s.syncEvery(16, 60).batches(0), s.syncEvery(16, 60).batches(1),
                s.syncEvery(16, 60).batches(9)), "where the round floor binds, the first epoch is synchronous");
        assertEquals(List.of(8, 50, 1), List.of(s.syncEvery(16, 449).batches(0), s.syncEvery(2, 60).batches(0),
                s.syncEvery(16, 20).batches(0)), "no warm-up where the floor does not bind, or K is 1 anyway");
        assertEquals("bmuf (block momentum 0.75, block lr 1)", s.outerUpdate(4).toString());
        assertEquals(0.0, s.outerUpdate(1).momentum(), "one worker: plain averaging");
        Settings avg = Settings.of(java.util.Map.of(), "--set", List.of("dist.outer=average", "dist.sync_every=5"));
        assertEquals("average", avg.outerUpdate(4).toString());
        assertEquals(5, avg.syncEvery(4).batches(3));
        assertEquals(0, avg.syncEvery(1).batches(0), "one worker averaging: no rounds within an epoch, whatever K");
        Settings nesterov = Settings.of(java.util.Map.of(), "--set", List.of("dist.outer=nesterov", "dist.sync_every=5"));
        assertEquals(5, nesterov.syncEvery(1).batches(0), "one worker with an outer step: its rounds change the run");
        Settings growing = Settings.of(java.util.Map.of(), "--set", List.of("dist.sync_every=1, 2,4"));
        assertEquals(List.of(1, 2, 4, 4), List.of(growing.syncEvery(16).batches(0), growing.syncEvery(16).batches(1),
                growing.syncEvery(16).batches(2), growing.syncEvery(16).batches(9)));
        assertEquals("nesterov (momentum 0.9, outer lr 0.7)", Settings.of(java.util.Map.of(), "--set",
                List.of("dist.outer=nesterov")).outerUpdate(16).toString());
    }

    @Test
    void divergenceStopsAndKeepsTheLastGoodCheckpoint() throws IOException {
        Path out = tmp.resolve("diverge");
        assertEquals(0, run(train(out, "--set", "train.epochs=1"))[0]);
        byte[] good = Files.readAllBytes(out.resolve("weights.safetensors"));
        Object[] r = run(train(out, "--overwrite", "--set", "train.lr=1e38", "--set", "train.clip=0"));
        fails("NaN or infinite", r);
        assertArrayEquals(good, Files.readAllBytes(out.resolve("weights.safetensors")));
    }
}
