package dev.seqspark.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Directories SeqSpark writes whole (model directories, checkpoints), on any file system ({@link Location}):
 * written into a temporary sibling {@code .DIR.tmp-N}, closed by a commit marker ({@value #COMMIT}, listing
 * the files), then committed; replaced only when they are ours; repaired after a kill. One implementation of
 * each rule, whatever the file system; only the commit itself depends on what the file system can do.
 *
 * <p><b>Where a directory renames atomically</b> (HDFS, the local disk: {@link Location#atomicRename()}),
 * committing is renaming: {@code DIR → .DIR.old-T}, {@code .DIR.tmp-N → DIR}, then the old one is deleted. A
 * directory that exists is complete; a process killed between the two renames leaves {@code DIR} missing and
 * its last complete contents in {@code .DIR.old-T}, which {@link #recover} renames back.
 *
 * <p><b>On object stores</b> (S3A, GCS, …: a directory "rename" is a copy of every file) the marker is the
 * commit. Promoting {@code .DIR.tmp-N} deletes {@code DIR}'s marker first (from then on the temporary copy is
 * the truth), replaces {@code DIR}'s files by the new ones (each file appears whole, as object stores
 * guarantee), writes {@code DIR}'s marker last and deletes the temporary copy. Readers refuse a directory
 * without its marker there; a kill leaves either the old committed directory (the temporary copy is
 * discarded) or an uncommitted one beside a complete temporary copy, which {@link #recover} promotes again.
 * Everywhere, a reader that finds the marker checks after reading that it is still the same one, so a
 * directory replaced while it was being read is refused rather than read half old, half new.
 *
 * <p>A user's data outlives every bug: an existing {@code DIR} is replaced only when it is empty or is a
 * SeqSpark model directory (its {@code config.json} says {@code "format": "seqspark-model"}); anything else
 * is refused with {@link NotOursException}, touching nothing. Recovery touches only {@code DIR} and its
 * {@code .DIR.tmp-N} / {@code .DIR.old-T} siblings, and promotes only into a directory that is missing,
 * empty, ours, or holds nothing but files of the version being promoted.
 */
public final class OutputDir {
    /** The commit marker, written last into every directory SeqSpark commits. */
    public static final String COMMIT = "_SEQSPARK_COMMIT";
    private static final String COMMIT_FORMAT = "seqspark-commit";
    private static final int COMMIT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TMP = ".tmp-";
    private static final String OLD = ".old-";

    private OutputDir() {}

    /** An existing directory that SeqSpark did not write: never replaced. */
    public static final class NotOursException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotOursException(Location dir, String why) {
            super("refusing to replace " + dir + ": " + why + "; SeqSpark replaces only an empty folder or a "
                    + "SeqSpark model directory (config.json with \"format\": \"" + ModelConfig.FORMAT
                    + "\"): choose another --output, or empty it yourself");
        }
    }

    /** Something that fills a fresh, empty directory with files. */
    public interface Contents {
        void writeTo(Location dir) throws IOException;
    }

    /** True when {@code dir} is a directory (not a link to one) whose config.json names SeqSpark's model format. */
    public static boolean isModelDir(Location dir) {
        try {
            if (!dir.isPlainDirectory()) {
                return false;
            }
            Location config = dir.child(ModelDir.CONFIG);
            var st = config.status();
            if (st == null || !st.isFile() || st.getLen() > ModelDir.MAX_CONFIG_BYTES) {
                return false;
            }
            JsonNode o = JSON.readTree(config.readAtMost(ModelDir.MAX_CONFIG_BYTES));
            return o != null && ModelConfig.FORMAT.equals(o.path("format").asText(null));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Refuses (with {@link NotOursException}) an existing {@code dir} that SeqSpark may not replace. */
    public static void checkReplaceable(Location dir) throws IOException {
        if (!dir.exists()) {
            return;
        }
        if (!dir.isPlainDirectory()) {
            throw new NotOursException(dir, "it is not a directory");
        }
        if (!dir.list().isEmpty() && !isModelDir(dir)) {
            throw new NotOursException(dir, "it holds files and is not a SeqSpark model directory");
        }
    }

    /**
     * Writes {@code dir} atomically: fills a temporary sibling with {@code contents}, adds the commit marker,
     * then commits it as {@code dir} (see the class comment). An existing {@code dir} is an error unless
     * {@code replace}, and is replaced only when {@link #checkReplaceable} allows it. A failure at any point
     * leaves {@code dir} as it was, or — past the commit point on an object store — leaves what
     * {@link #recover} completes.
     */
    public static void write(Location dir, boolean replace, Contents contents) throws IOException {
        Location parent = dir.parent();
        if (parent == null) {
            throw new IOException("cannot write a model directory at the root " + dir);
        }
        if (!parent.exists()) {
            parent.mkdirs();
        }
        recover(dir);
        if (dir.exists()) {
            if (!replace) {
                throw new FileAlreadyExistsException(dir + " exists");
            }
            checkReplaceable(dir);
        }
        Location tmp = newTemporary(dir);
        boolean committing = false;
        try {
            contents.writeTo(tmp);
            Marker marker = writeMarker(tmp);
            committing = !dir.atomicRename();
            if (dir.atomicRename()) {
                swap(tmp, dir);
            } else {
                promote(tmp, dir, marker);
            }
        } catch (IOException | RuntimeException e) {
            if (!committing) {           // past the commit point the temporary copy is the model: keep it
                try {
                    tmp.delete();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static Location newTemporary(Location dir) throws IOException {
        Location parent = dir.parent();
        for (int attempt = 0; ; attempt++) {
            Location tmp = parent.child("." + dir.name() + TMP + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE));
            if (!tmp.exists()) {
                tmp.mkdirs();
                return tmp;
            }
            if (attempt > 100) {
                throw new IOException("cannot create a temporary directory beside " + dir);
            }
        }
    }

    /** Where a directory renames atomically: two renames and a delete. */
    private static void swap(Location tmp, Location dir) throws IOException {
        if (dir.exists()) {
            Location old = dir.parent().child("." + dir.name() + OLD + System.currentTimeMillis());
            dir.renameTo(old);
            tmp.renameTo(dir);
            old.delete();
        } else {
            tmp.renameTo(dir);
        }
    }

    /** What a commit marker says: its id (new for every write), when it was written, the files it covers. */
    record Marker(String id, long written, List<String> files) {}

    /** Lists every file {@code contents} wrote into {@code tmp} in a new marker there, written last. */
    private static Marker writeMarker(Location tmp) throws IOException {
        List<String> files = new ArrayList<>();
        for (Location f : tmp.list()) {
            if (!f.isFile()) {
                throw new IOException(f + ": a model directory holds files only");
            }
            files.add(f.name());
        }
        Marker m = new Marker(UUID.randomUUID().toString(), System.currentTimeMillis(), files);
        tmp.child(COMMIT).write(markerJson(m));
        return m;
    }

    private static byte[] markerJson(Marker m) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", COMMIT_FORMAT);
        o.put("version", COMMIT_VERSION);
        o.put("id", m.id());
        o.put("written", m.written());
        ArrayNode a = o.putArray("files");
        m.files().forEach(a::add);
        return JSON.writeValueAsBytes(o);
    }

    /** The marker of {@code dir}, checked as untrusted input; null when there is none. */
    static Marker readMarker(Location dir) {
        Location f = dir.child(COMMIT);
        String where = f.toString();
        try {
            if (!f.isFile()) {
                return null;
            }
        } catch (IOException e) {
            throw new ModelFormatException(where + ": cannot read (" + e.getMessage() + ")", e);
        }
        JsonNode o = ModelDir.readJson(f, ModelDir.MAX_CONFIG_BYTES);
        if (!o.isObject() || !COMMIT_FORMAT.equals(o.path("format").asText(null))) {
            throw new ModelFormatException(where + ": not a SeqSpark commit marker ('format' should be '" + COMMIT_FORMAT + "')");
        }
        int version = ModelConfig.intField(o, "version", where, 0, Integer.MAX_VALUE);
        if (version != COMMIT_VERSION) {
            throw new ModelFormatException(where + ": version " + version + " is not supported (this build reads "
                    + COMMIT_VERSION + ")");
        }
        String id = ModelConfig.textField(o, "id", where);
        long written = ModelConfig.longField(o, "written", where, 0, Long.MAX_VALUE);
        JsonNode a = o.get("files");
        if (a == null || !a.isArray()) {
            throw new ModelFormatException(where + ": 'files' must be an array of file names");
        }
        Set<String> files = new LinkedHashSet<>();
        for (JsonNode n : a) {
            String name = n.isTextual() ? n.asText() : "";
            if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..") || name.equals(COMMIT)
                    || !files.add(name)) {
                throw new ModelFormatException(where + ": 'files' holds " + ModelConfig.shown(n)
                        + ", not a distinct plain file name");
            }
        }
        return new Marker(id, written, List.copyOf(files));
    }

    /**
     * What a reader of {@code dir} checks first: on a file system without atomic rename, that {@code dir} is
     * committed (its marker is there). Returns the marker's id, for {@link #checkUnchanged}; null when there
     * is no marker where none is needed (a directory another tool wrote, on HDFS or a local disk).
     */
    static String checkCommitted(Location dir) {
        Marker m = readMarker(dir);
        if (m == null && !dir.atomicRename()) {
            throw new ModelFormatException(dir + ": not committed (no " + COMMIT + "): its writer was interrupted or "
                    + "is still writing; on a file system without atomic rename SeqSpark writes " + COMMIT
                    + " last and reads only directories that have it (train --resume completes an interrupted write)");
        }
        return m == null ? null : m.id();
    }

    /** After reading {@code dir}: its marker must still be the one {@link #checkCommitted} saw. */
    static void checkUnchanged(Location dir, String id) {
        if (id == null) {
            return;
        }
        Marker now;
        try {
            now = readMarker(dir);
        } catch (ModelFormatException e) {
            now = null;
        }
        if (now == null || !now.id().equals(id)) {
            throw new ModelFormatException(dir + ": was replaced while it was being read (its " + COMMIT
                    + " changed); read it again");
        }
    }

    /**
     * Object stores: makes {@code dir} the version in {@code tmp} (complete, with {@code marker}). Deleting
     * {@code dir}'s marker is the commit point; every step after it can be repeated by {@link #recover}.
     */
    private static void promote(Location tmp, Location dir, Marker marker) throws IOException {
        Location dirMarker = dir.child(COMMIT);
        dirMarker.delete();
        Set<String> files = new LinkedHashSet<>(marker.files());
        if (!dir.exists()) {
            dir.mkdirs();
        }
        // Files of an older version that the new one does not have; config.json (always in a version) stays
        // until it is replaced, so a half-done promotion is still recognisably ours.
        for (Location f : dir.list()) {
            if (!files.contains(f.name())) {
                f.delete();
            }
        }
        List<String> order = new ArrayList<>(files);
        order.sort(Comparator.comparing((String n) -> !n.equals(ModelDir.CONFIG)).thenComparing(n -> n));
        for (String name : order) {
            Location from = tmp.child(name);
            Location to = dir.child(name);
            if (from.exists()) {
                to.delete();
                from.renameTo(to);               // an object store copies it: it appears whole, or not at all
            } else if (!to.isFile()) {
                throw new IOException("cannot complete " + dir + ": " + name + " is neither in " + tmp + " nor in it");
            }
        }
        dirMarker.write(markerJson(marker));
        tmp.delete();
    }

    /**
     * Repairs what a process killed in the middle of {@link #write} left. Where directories rename atomically:
     * when {@code dir} is missing, its newest complete previous version ({@code .DIR.old-T}, a model
     * directory) is renamed back. On object stores: when {@code dir} is not committed and a complete
     * temporary copy ({@code .DIR.tmp-N} with its marker) is there, the interrupted promotion is finished.
     * Then every leftover {@code .DIR.tmp-N} and {@code .DIR.old-T} sibling is removed. Returns true when it
     * restored or completed {@code dir}.
     */
    public static boolean recover(Location dir) throws IOException {
        Location parent = dir.parent();
        if (parent == null || !parent.isDirectory()) {
            return false;
        }
        String name = dir.name();
        Pattern tmpName = Pattern.compile(Pattern.quote("." + name + TMP) + "\\d{1,20}");
        Pattern oldName = Pattern.compile(Pattern.quote("." + name + OLD) + "(\\d{1,18})");
        List<Location> tmps = new ArrayList<>();
        List<Location> olds = new ArrayList<>();
        for (Location p : parent.list()) {
            String n = p.name();
            if (!n.startsWith("." + name + ".")) {
                continue;
            }
            if (tmpName.matcher(n).matches()) {
                tmps.add(p);
            } else if (oldName.matcher(n).matches() && isModelDir(p)) {
                olds.add(p);
            }
        }
        boolean restored = false;
        if (dir.atomicRename()) {
            olds.sort((a, b) -> Long.compare(stamp(b, oldName), stamp(a, oldName)));   // newest first
            if (!dir.exists() && !olds.isEmpty()) {
                olds.remove(0).renameTo(dir);
                restored = true;
            }
        } else if (!dir.child(COMMIT).exists()) {
            Location best = null;
            Marker bestMarker = null;
            for (Location t : tmps) {
                Marker m = completeMarker(t);
                if (m != null && (bestMarker == null || m.written() > bestMarker.written())) {
                    best = t;
                    bestMarker = m;
                }
            }
            if (best != null && mayPromoteInto(dir, bestMarker)) {
                promote(best, dir, bestMarker);
                tmps.remove(best);
                restored = true;
            }
        }
        for (Location p : tmps) {
            p.delete();
        }
        for (Location p : olds) {
            p.delete();
        }
        return restored;
    }

    /**
     * The marker of a temporary copy that was completed (the marker is written after every file), null
     * otherwise; a promotion that was under way has already moved some of its files into DIR.
     */
    private static Marker completeMarker(Location tmp) {
        try {
            return readMarker(tmp);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A promotion may (re)start into {@code dir} only when that touches nothing but SeqSpark's own files. */
    private static boolean mayPromoteInto(Location dir, Marker m) throws IOException {
        if (!dir.exists()) {
            return true;
        }
        if (!dir.isPlainDirectory()) {
            return false;
        }
        List<Location> entries = dir.list();
        return entries.isEmpty() || isModelDir(dir) || entries.stream().allMatch(e -> m.files().contains(e.name()));
    }

    private static long stamp(Location p, Pattern oldName) {
        var m = oldName.matcher(p.name());
        return m.matches() ? Long.parseLong(m.group(1)) : 0;
    }
}
