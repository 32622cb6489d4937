package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Directories SeqSpark writes whole (model directories, checkpoints): written into a temporary sibling and
 * renamed into place, so a reader never sees half of one; and replaced only when they are ours.
 *
 * <p>Replacing {@code DIR} takes two renames ({@code DIR → .DIR.old-T}, then {@code .DIR.tmp-N → DIR}) and a
 * delete. A process killed between them leaves {@code DIR} missing with its last complete contents in
 * {@code .DIR.old-T}; {@link #recover} (run before every read for resuming and every write) renames that
 * back and removes the leftovers, so nothing is lost and temporary folders do not pile up.
 *
 * <p>A user's data outlives every bug: an existing {@code DIR} is replaced only when it is empty or is a
 * SeqSpark model directory (its {@code config.json} says {@code "format": "seqspark-model"}); anything else
 * is refused with {@link NotOursException}, touching nothing.
 */
public final class OutputDir {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TMP = ".tmp-";
    private static final String OLD = ".old-";

    private OutputDir() {}

    /** An existing directory that SeqSpark did not write: never replaced. */
    public static final class NotOursException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotOursException(Path dir, String why) {
            super("refusing to replace " + dir + ": " + why + "; SeqSpark replaces only an empty folder or a "
                    + "SeqSpark model directory (config.json with \"format\": \"" + ModelConfig.FORMAT
                    + "\"): choose another --output, or empty it yourself");
        }
    }

    /** Something that fills a fresh, empty directory. */
    public interface Contents {
        void writeTo(Path dir) throws IOException;
    }

    /** True when {@code dir} is a directory whose config.json names SeqSpark's model format. */
    public static boolean isModelDir(Path dir) {
        Path config = dir.resolve(ModelDir.CONFIG);
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(config)
                    || Files.size(config) > (1 << 20)) {
                return false;
            }
            JsonNode o = JSON.readTree(config.toFile());
            return o != null && ModelConfig.FORMAT.equals(o.path("format").asText(null));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean isEmptyDir(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return !ds.iterator().hasNext();
        }
    }

    /** Refuses (with {@link NotOursException}) an existing {@code dir} that SeqSpark may not replace. */
    public static void checkReplaceable(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotOursException(abs, "it is not a directory");
        }
        if (!isEmptyDir(abs) && !isModelDir(abs)) {
            throw new NotOursException(abs, "it holds files and is not a SeqSpark model directory");
        }
    }

    /**
     * Writes {@code dir} atomically: fills a temporary sibling with {@code contents}, then renames it to
     * {@code dir}. An existing {@code dir} is an error unless {@code replace}, and is replaced only when
     * {@link #checkReplaceable} allows it. A failure at any point leaves {@code dir} as it was.
     */
    public static void write(Path dir, boolean replace, Contents contents) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        recover(abs);
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            if (!replace) {
                throw new FileAlreadyExistsException(abs + " exists");
            }
            checkReplaceable(abs);
        }
        Path tmp = Files.createTempDirectory(parent, "." + abs.getFileName() + TMP);
        try {
            contents.writeTo(tmp);
            if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                Path old = parent.resolve("." + abs.getFileName() + OLD + System.currentTimeMillis());
                Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                deleteRecursively(old);
            } else {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
    }

    /**
     * Repairs what a process killed in the middle of {@link #write} left: when {@code dir} is missing, its
     * newest complete previous version ({@code .DIR.old-T}, a model directory) is renamed back; then every
     * leftover {@code .DIR.tmp-N} and {@code .DIR.old-T} sibling is removed. Returns true when it restored
     * {@code dir}.
     */
    public static boolean recover(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return false;
        }
        String name = abs.getFileName().toString();
        Pattern tmpName = Pattern.compile(Pattern.quote("." + name + TMP) + "\\d{1,20}");
        Pattern oldName = Pattern.compile(Pattern.quote("." + name + OLD) + "(\\d{1,18})");
        List<Path> tmps = new ArrayList<>();
        List<Path> olds = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, "." + globEscape(name) + ".*")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (tmpName.matcher(n).matches()) {
                    tmps.add(p);
                } else if (oldName.matcher(n).matches() && isModelDir(p)) {
                    olds.add(p);
                }
            }
        }
        olds.sort((a, b) -> Long.compare(stamp(b, oldName), stamp(a, oldName)));   // newest first
        boolean restored = false;
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !olds.isEmpty()) {
            Files.move(olds.remove(0), abs, StandardCopyOption.ATOMIC_MOVE);
            restored = true;
        }
        for (Path p : tmps) {
            deleteRecursively(p);
        }
        for (Path p : olds) {
            deleteRecursively(p);
        }
        return restored;
    }

    private static long stamp(Path p, Pattern oldName) {
        var m = oldName.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : 0;
    }

    private static String globEscape(String s) {
        return s.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
    }

    /** Deletes {@code p} and everything under it; symbolic links are removed, never followed. */
    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path c : ds) {
                    deleteRecursively(c);
                }
            }
        }
        Files.delete(p);
    }
}
