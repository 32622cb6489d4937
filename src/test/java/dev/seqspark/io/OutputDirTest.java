package dev.seqspark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.seqspark.model.LanguageModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replacing only what is ours, and recovering from a process killed in the middle of a replace. */
class OutputDirTest {
    @TempDir
    Path tmp;

    private List<String> names() throws IOException {
        try (var s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFolderWithTheUsersFilesIsNeverReplaced() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(dir.resolve("thesis.tex"), "years of work");
        OutputDir.NotOursException e = assertThrows(OutputDir.NotOursException.class,
                () -> ModelDir.write(Location.local(dir), ModelDirTest.model(0), List.of(), true));
        assertTrue(e.getMessage().contains(dir.toString()) && !e.getMessage().contains("\n"), e.getMessage());
        assertEquals("years of work", Files.readString(dir.resolve("thesis.tex")));
        assertEquals(List.of("out"), names(), "nothing else written");
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
        // A config.json that is not SeqSpark's does not make the folder ours either.
        Files.writeString(dir.resolve("config.json"), "{\"format\": \"something-else\"}");
        assertThrows(OutputDir.NotOursException.class, () -> OutputDir.checkReplaceable(Location.local(dir)));
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertThrows(OutputDir.NotOursException.class, () -> ModelDir.write(Location.local(file), ModelDirTest.model(0), List.of(), true));
        assertEquals("x", Files.readString(file));
    }

    @Test
    void anEmptyFolderOrAModelDirectoryIsReplaced() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        ModelDir.write(Location.local(dir), ModelDirTest.model(0), List.of(), true);
        assertEquals(0, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
        ModelDir.write(Location.local(dir), ModelDirTest.model(3), List.of(), true);
        assertEquals(3, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
        assertEquals(List.of("out"), names());
    }

    @Test
    void aKillBetweenTheTwoRenamesIsRecovered() throws IOException {
        Path dir = tmp.resolve("out");
        ModelDir.write(Location.local(dir), ModelDirTest.model(3), List.of(), false);
        // What a kill leaves: DIR renamed away, the new version half written, an older leftover too.
        Files.move(dir, tmp.resolve(".out.old-1700000000000"));
        Path partial = Files.createDirectories(tmp.resolve(".out.tmp-123456789"));
        Files.writeString(partial.resolve("config.json"), "{");
        ModelDir.write(Location.local(tmp.resolve(".out.old-1600000000000")), ModelDirTest.model(0), List.of(), false);
        assertFalse(Files.exists(dir));

        assertTrue(OutputDir.recover(Location.local(dir)), "restored");
        assertEquals(3, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim(), "the newest complete version is back");
        assertEquals(List.of("out"), names(), "no leftovers");
        assertFalse(OutputDir.recover(Location.local(dir)), "nothing to do twice");
    }

    @Test
    void theNextWriteRecoversFirst() throws IOException {
        Path dir = tmp.resolve("out");
        ModelDir.write(Location.local(dir), ModelDirTest.model(3), List.of(), false);
        Files.move(dir, tmp.resolve(".out.old-1700000000000"));
        // Without replace the restored directory is an existing one: refused, and nothing is lost.
        assertThrows(java.nio.file.FileAlreadyExistsException.class,
                () -> ModelDir.write(Location.local(dir), ModelDirTest.model(0), List.of(), false));
        assertEquals(3, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
        ModelDir.write(Location.local(dir), ModelDirTest.model(0), List.of(), true);
        assertEquals(0, ModelDir.read(Location.local(dir), LanguageModelSpec.class).spec().embeddingDim());
        assertEquals(List.of("out"), names());
    }

    @Test
    void siblingsOfOtherNamesAreLeftAlone() throws IOException {
        Path dir = tmp.resolve("out");
        Files.createDirectories(tmp.resolve(".out.tmp-notdigits"));
        Files.createDirectories(tmp.resolve(".outer.tmp-123"));
        Files.createDirectories(tmp.resolve(".out.old-5"));            // not a model directory: not ours
        ModelDir.write(Location.local(dir), ModelDirTest.model(0), List.of(), false);
        assertEquals(List.of(".out.old-5", ".out.tmp-notdigits", ".outer.tmp-123", "out"), names());
    }
}
