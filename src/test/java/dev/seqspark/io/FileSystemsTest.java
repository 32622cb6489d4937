package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.seqspark.model.LanguageModelSpec;
import dev.seqspark.testutil.KillableFileSystem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model directory's rules on file systems other than java.nio's local disk: Hadoop's local file system
 * (raw, and checksummed with its .crc side files), paths without a scheme, and — through
 * {@link KillableFileSystem} — a file system without atomic rename (an object store: commit marker), each
 * killed at every one of its changes during a replace.
 */
class FileSystemsTest {
    @TempDir
    Path tmp;

    private static Model<LanguageModelSpec> a() {
        return ModelDirTest.model(0);
    }

    private static Model<LanguageModelSpec> b() {
        return ModelDirTest.model(3);
    }

    /** "A" or "B" (told apart by their embedding), or null when the directory is refused, in one line. */
    private static String version(Location dir) {
        try {
            int e = ModelDir.read(dir, LanguageModelSpec.class).spec().embeddingDim();
            return e == 0 ? "A" : e == 3 ? "B" : "?" + e;
        } catch (ModelFormatException e) {
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return null;
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * For both kinds of file system, with and without a previous version: the replace is killed before its
     * 1st, 2nd, … change until it completes. Before recovery a reader sees A, B or a one-line refusal (on
     * the object store: a refusal whenever the marker is missing), never a mix; after recovery (what the next
     * write or train --resume runs) the directory is A or B, never lost, never mixed, with nothing left beside
     * it, and once a kill point gives B every later one does too.
     */
    @Test
    void aReplaceKilledAtAnyPointLeavesTheOldOrTheNewVersion() throws IOException {
        for (boolean atomic : new boolean[] {true, false}) {
            for (boolean existing : new boolean[] {true, false}) {
                String what = (atomic ? "atomic rename" : "object store") + (existing ? ", replacing A" : ", first write");
                List<String> outcomes = new ArrayList<>();
                for (int k = 1; ; k++) {
                    Path base = Files.createDirectories(tmp.resolve((atomic ? "r" : "o") + (existing ? "x" : "n") + k));
                    Configuration conf = KillableFileSystem.conf(atomic);
                    Location dir = Location.of(KillableFileSystem.create(conf), KillableFileSystem.path(base.resolve("out")));
                    assertEquals(atomic, dir.atomicRename());
                    if (existing) {
                        ModelDir.write(dir, a(), List.of(), false);
                    }
                    KillableFileSystem killing = KillableFileSystem.create(conf).killAt(k);
                    Location killed = Location.of(killing, dir.path());
                    boolean completed = false;
                    try {
                        ModelDir.write(killed, b(), List.of(), true);
                        completed = true;
                    } catch (KillableFileSystem.Killed e) {
                        // as a SIGKILL: nothing ran after it
                    }
                    String before = version(dir);
                    if (!atomic && !Files.exists(base.resolve("out").resolve(OutputDir.COMMIT))) {
                        assertEquals(null, before, what + ", kill " + k + ": an uncommitted directory is refused");
                    }
                    assertTrue(before == null || before.equals("A") || before.equals("B"), what + ", kill " + k + ": " + before);
                    OutputDir.recover(dir);
                    String after = version(dir);
                    if (existing) {
                        assertNotNull(after, what + ", kill " + k + ": the model is never lost");
                    }
                    assertTrue(after == null ? !Files.exists(base.resolve("out")) : after.equals("A") || after.equals("B"),
                            what + ", kill " + k + ": " + after + " " + names(base));
                    assertEquals(Files.exists(base.resolve("out")) ? List.of("out") : List.of(), names(base),
                            what + ", kill " + k + ": nothing left beside it");
                    if (!outcomes.isEmpty() && "B".equals(outcomes.get(outcomes.size() - 1))) {
                        assertEquals("B", after, what + ", kill " + k + ": past the commit point it stays B");
                    }
                    outcomes.add(after);
                    if (completed) {
                        assertEquals("B", after, what);
                        break;
                    }
                    assertTrue(k < 200, what + ": the write never completed");
                }
                System.out.println("FileSystemsTest " + what + ": after recovery, kill point by kill point: " + outcomes);
                assertTrue(outcomes.contains(existing ? "A" : null) && outcomes.contains("B"), what + ": " + outcomes);
            }
        }
    }

    @Test
    void onAnObjectStoreOnlyACommittedDirectoryIsRead() throws IOException {
        Path base = Files.createDirectories(tmp.resolve("objects"));
        Location dir = Location.of(KillableFileSystem.create(KillableFileSystem.conf(false)),
                KillableFileSystem.path(base.resolve("m")));
        assertFalse(dir.atomicRename());
        ModelDir.write(dir, b(), List.of(), false);
        assertEquals(List.of(OutputDir.COMMIT, ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS), names(base.resolve("m")));
        assertEquals("B", version(dir));
        Files.delete(base.resolve("m").resolve(OutputDir.COMMIT));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelDir.read(dir, LanguageModelSpec.class));
        assertTrue(e.getMessage().startsWith(dir + ": not committed (no " + OutputDir.COMMIT + ")"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> Checkpoint.read(dir));
        // Where directories rename atomically the marker is not needed (PyTorch's tools/seqspark_torch.py, older runs).
        Location local = Location.local(base.resolve("m"));
        assertEquals("B", version(local));
        // A marker that is not one is refused everywhere, naming it.
        Files.writeString(base.resolve("m").resolve(OutputDir.COMMIT), "{\"format\": \"seqspark-commit\"}");
        e = assertThrows(ModelFormatException.class, () -> ModelDir.read(local, LanguageModelSpec.class));
        assertTrue(e.getMessage().contains(OutputDir.COMMIT + ": 'version' must be an integer"), e.getMessage());
    }

    /** A reader racing a writer: the directory is replaced between opening config.json and weights.safetensors. */
    @Test
    void aDirectoryReplacedWhileBeingReadIsRefused() throws IOException {
        for (boolean atomic : new boolean[] {true, false}) {
            Path base = Files.createDirectories(tmp.resolve(atomic ? "race-r" : "race-o"));
            Configuration conf = KillableFileSystem.conf(atomic);
            Location dir = Location.of(KillableFileSystem.create(conf), KillableFileSystem.path(base.resolve("m")));
            ModelDir.write(dir, a(), List.of(), false);
            boolean[] once = {false};
            KillableFileSystem racing = KillableFileSystem.create(conf).onOpen(p -> {
                if (p.getName().equals(ModelDir.VOCAB) && !once[0]) {
                    once[0] = true;
                    try {
                        ModelDir.write(dir, a(), List.of(), true);     // same size, same files: only the marker tells
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> ModelDir.read(Location.of(racing, dir.path()), LanguageModelSpec.class));
            assertTrue(e.getMessage().endsWith("was replaced while it was being read (its " + OutputDir.COMMIT
                    + " changed); read it again"), e.getMessage());
            assertEquals("A", version(dir), "read again, it is fine");
        }
    }

    @Test
    void theOnlyOursRulesHoldOnAnObjectStore() throws IOException {
        Path base = Files.createDirectories(tmp.resolve("ours"));
        KillableFileSystem fs = KillableFileSystem.create(KillableFileSystem.conf(false));
        Location users = Location.of(fs, KillableFileSystem.path(base.resolve("users")));
        Files.createDirectories(base.resolve("users"));
        Files.writeString(base.resolve("users").resolve("thesis.tex"), "years of work");
        assertThrows(OutputDir.NotOursException.class, () -> ModelDir.write(users, a(), List.of(), true));
        // A complete temporary copy beside a user's folder is never promoted into it; it is a leftover.
        Location tmpCopy = Location.of(fs, KillableFileSystem.path(base.resolve("m")));
        ModelDir.write(tmpCopy, b(), List.of(), false);
        Files.move(base.resolve("m"), base.resolve(".users.tmp-42"));
        assertFalse(OutputDir.recover(users));
        assertEquals(List.of("thesis.tex"), names(base.resolve("users")));
        assertEquals(List.of("users"), names(base));
        // Siblings of other names are left alone.
        Files.createDirectories(base.resolve(".users.tmp-notdigits"));
        Files.createDirectories(base.resolve(".userss.tmp-1"));
        OutputDir.recover(users);
        assertEquals(List.of(".users.tmp-notdigits", ".userss.tmp-1", "users"), names(base));
    }

    /** Hadoop's checksummed LocalFileSystem: used raw by SeqSpark, and its .crc files do not disturb the rules. */
    @Test
    void theLocalFileSystemIsUsedRawAndChecksumFilesAreHarmless() throws IOException {
        LocalFileSystem checksummed = FileSystem.getLocal(new Configuration());
        Location viaChecksummed = Location.of(checksummed, new org.apache.hadoop.fs.Path(tmp.resolve("raw").toString()));
        assertTrue(viaChecksummed.atomicRename() && viaChecksummed.isLocal());
        ModelDir.write(viaChecksummed, a(), List.of(), false);
        assertEquals(List.of(OutputDir.COMMIT, ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS), names(tmp.resolve("raw")),
                "no .crc side files");
        // A model directory that went through the checksummed file system has them; it reads and is ours.
        checksummed.copyFromLocalFile(new org.apache.hadoop.fs.Path(tmp.resolve("raw").toString()),
                new org.apache.hadoop.fs.Path(tmp.resolve("crc").toString()));
        assertTrue(names(tmp.resolve("crc")).contains("." + ModelDir.WEIGHTS + ".crc"), names(tmp.resolve("crc")).toString());
        assertEquals("A", version(Location.local(tmp.resolve("crc"))));
        ModelDir.write(Location.local(tmp.resolve("crc")), b(), List.of(), true);
        assertEquals("B", version(Location.local(tmp.resolve("crc"))));
        // A Spark writer's folder (part files and their checksums) is not ours.
        Path spark = Files.createDirectories(tmp.resolve("spark-out"));
        Files.writeString(spark.resolve("part-00000.json"), "{}\n");
        Files.writeString(spark.resolve(".part-00000.json.crc"), "x");
        assertThrows(OutputDir.NotOursException.class, () -> OutputDir.checkReplaceable(Location.local(spark)));
    }

    @Test
    void aPathWithoutSchemeIsOnTheDefaultFileSystem() throws IOException {
        Configuration local = new Configuration();
        Location plain = Location.of(tmp.resolve("m").toString(), local);
        assertEquals("file", plain.path().toUri().getScheme());
        assertEquals(tmp.resolve("m").toString(), plain.toString(), "shown as given: a local path");
        Location uri = Location.of("file:" + tmp.resolve("m"), local);
        assertEquals("file:" + tmp.resolve("m"), uri.toString(), "a URI is shown as a URI");
        assertEquals(plain, uri);
        Location relative = Location.of("models/m", local);
        assertEquals(Path.of("models/m").toAbsolutePath().toString(), relative.toString(), "from the working directory");

        Configuration cluster = KillableFileSystem.conf(false);
        cluster.set("fs.defaultFS", KillableFileSystem.SCHEME + ":///");
        Location onDefault = Location.of(tmp.resolve("d").toString(), cluster);
        assertEquals(KillableFileSystem.SCHEME, onDefault.path().toUri().getScheme());
        assertFalse(onDefault.atomicRename(), "a scheme not known to rename atomically gets the commit marker");
        ModelDir.write(onDefault, a(), List.of(), false);
        assertTrue(Files.exists(tmp.resolve("d").resolve(OutputDir.COMMIT)));
        assertEquals("file:" + tmp.resolve("x"), Location.of("file:" + tmp.resolve("x"), cluster).toString());

        IOException none = assertThrows(IOException.class, () -> Location.of("nosuchfs://host/m", local));
        assertTrue(none.getMessage().contains("nosuchfs"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Location.of(" ", local));
    }

    @Test
    void whichFileSystemsRenameAtomicallyIsConfigurable() throws IOException {
        assertTrue(Location.of("file:/x", new Configuration()).atomicRename());
        for (String scheme : List.of("s3a", "gs", "abfs", "wasb", "oss")) {
            assertFalse(List.of(Location.DEFAULT_ATOMIC_RENAME_SCHEMES.split(",")).contains(scheme), scheme);
        }
        Configuration only = new Configuration();
        only.set(Location.ATOMIC_RENAME_SCHEMES, "hdfs");
        assertFalse(Location.of("file:/x", only).atomicRename(), "the local disk treated as an object store when told so");
        only.set(Location.ATOMIC_RENAME_SCHEMES, " HDFS , file ");
        assertTrue(Location.of("file:/x", only).atomicRename());
    }

    @Test
    void theCommitMarkerListsTheFilesAndIsWrittenLast() throws IOException {
        Path dir = tmp.resolve("ck");
        Checkpoint.write(Location.local(dir), a(), List.of(), new Checkpoint.State(1, 7, new float[0], new float[0], Map.of("k", "v")));
        String marker = Files.readString(dir.resolve(OutputDir.COMMIT), StandardCharsets.UTF_8);
        for (String f : List.of(ModelDir.CONFIG, ModelDir.VOCAB, ModelDir.WEIGHTS, Checkpoint.FILE)) {
            assertTrue(marker.contains("\"" + f + "\""), marker);
        }
        assertTrue(marker.contains("\"format\":\"seqspark-commit\""), marker);
        long newest = 0;
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals(OutputDir.COMMIT)) {
                    newest = Math.max(newest, Files.getLastModifiedTime(p).toMillis());
                }
            }
        }
        assertTrue(Files.getLastModifiedTime(dir.resolve(OutputDir.COMMIT)).toMillis() >= newest);
        if (!marker.contains("\"id\"")) {
            fail(marker);
        }
    }
}
