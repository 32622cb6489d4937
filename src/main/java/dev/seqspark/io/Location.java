package dev.seqspark.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A file or directory on any Hadoop file system — {@code file:}, {@code hdfs:}, {@code s3a:}, {@code gs:}, … —
 * and the few operations {@link ModelDir}, {@link Checkpoint}, {@link Safetensors} and {@link OutputDir} need.
 * This is io's one seam to storage: every model directory, checkpoint, {@code --init}, {@code --model} and
 * {@code --config} is read and written through it, whatever the file system, so each rule (what may be
 * replaced, how a kill is recovered, what a reader accepts) is written once, against this class.
 *
 * <p>A path without a scheme means the default file system ({@code fs.defaultFS}), as Spark resolves it:
 * the local disk in local mode, HDFS on a YARN cluster. The local file system is always used raw (Hadoop's
 * {@link RawLocalFileSystem}): a model directory holds exactly its files, with no {@code .crc} side files.
 *
 * <p>{@link #atomicRename()} says how {@link OutputDir} commits a directory here: by renaming a complete
 * temporary directory into place (HDFS, the local disk, …), or — on object stores, whose "rename" is a copy —
 * by a commit marker written last. The schemes that rename atomically are
 * {@value #DEFAULT_ATOMIC_RENAME_SCHEMES}; the Hadoop setting {@value #ATOMIC_RENAME_SCHEMES} (from Spark:
 * {@code spark.hadoop.seqspark.fs.atomic-rename-schemes}) replaces that list.
 */
public final class Location {
    /** Hadoop configuration key: comma-separated schemes whose file systems rename a directory atomically. */
    public static final String ATOMIC_RENAME_SCHEMES = "seqspark.fs.atomic-rename-schemes";
    public static final String DEFAULT_ATOMIC_RENAME_SCHEMES = "file,hdfs,viewfs,webhdfs,swebhdfs,o3fs,ofs";

    private static Configuration localConf;

    private final FileSystem fs;
    private final Path path;
    /** Shown without scheme (a local path the user gave as a plain path). */
    private final boolean plain;
    private final boolean atomicRename;

    private Location(FileSystem fs, Path path, boolean plain, boolean atomicRename) {
        this.fs = fs;
        this.path = path;
        this.plain = plain;
        this.atomicRename = atomicRename;
    }

    /**
     * {@code pathOrUri} on its file system: a URI ({@code hdfs://nn:8020/models/m}, {@code s3a://bucket/m},
     * {@code file:/data/m}) or a path without scheme, which is resolved against {@code fs.defaultFS} and its
     * working directory (on the local disk: the current directory). Fails with IOException when no file
     * system serves the scheme.
     */
    public static Location of(String pathOrUri, Configuration conf) throws IOException {
        if (pathOrUri == null || pathOrUri.isBlank()) {
            throw new IllegalArgumentException("an empty path");
        }
        Path p = new Path(pathOrUri);
        FileSystem fs = raw(p.getFileSystem(conf));
        boolean plain = p.toUri().getScheme() == null && isLocal(fs);
        return new Location(fs, fs.makeQualified(p), plain, renamesAtomically(fs, conf));
    }

    /** {@code p} on {@code fs} (a checksummed local file system is used raw), shown as the qualified path. */
    public static Location of(FileSystem fs, Path p) {
        FileSystem f = raw(fs);
        return new Location(f, f.makeQualified(p), false, renamesAtomically(f, fs.getConf()));
    }

    /** A local path, shown as a plain absolute path. */
    public static Location local(java.nio.file.Path p) {
        try {
            FileSystem f = FileSystem.getLocal(localConf()).getRaw();
            return new Location(f, f.makeQualified(new Path(p.toAbsolutePath().normalize().toString())), true,
                    renamesAtomically(f, localConf()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static synchronized Configuration localConf() {
        if (localConf == null) {
            localConf = new Configuration();
        }
        return localConf;
    }

    private static FileSystem raw(FileSystem fs) {
        return fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    }

    private static boolean isLocal(FileSystem fs) {
        return "file".equals(fs.getUri().getScheme());
    }

    /** Whether {@code fs}'s scheme is one that {@code conf} says renames a directory atomically (see above). */
    static boolean renamesAtomically(FileSystem fs, Configuration conf) {
        if (conf == null) {
            conf = localConf();
        }
        Set<String> schemes = new TreeSet<>();
        for (String s : conf.get(ATOMIC_RENAME_SCHEMES, DEFAULT_ATOMIC_RENAME_SCHEMES).split(",")) {
            if (!s.isBlank()) {
                schemes.add(s.trim().toLowerCase(Locale.ROOT));
            }
        }
        String scheme = fs.getUri().getScheme();
        return scheme != null && schemes.contains(scheme.toLowerCase(Locale.ROOT));
    }

    public Location child(String name) {
        return new Location(fs, new Path(path, name), plain, atomicRename);
    }

    /** The directory holding this one; null at the root. */
    public Location parent() {
        Path p = path.getParent();
        return p == null ? null : new Location(fs, p, plain, atomicRename);
    }

    public String name() {
        return path.getName();
    }

    public FileSystem fileSystem() {
        return fs;
    }

    /** The fully qualified path (scheme and authority included). */
    public Path path() {
        return path;
    }

    /** True where a directory is committed by a rename; false on object stores (commit marker). */
    public boolean atomicRename() {
        return atomicRename;
    }

    public boolean isLocal() {
        return isLocal(fs);
    }

    /** The path as messages show it: plain for a local path given without scheme, else the qualified URI. */
    @Override
    public String toString() {
        return plain ? path.toUri().getPath() : path.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Location l && l.path.equals(path);
    }

    @Override
    public int hashCode() {
        return path.hashCode();
    }

    /* The operations io needs. */

    /** The status of this path, null when there is nothing there. */
    public FileStatus status() throws IOException {
        try {
            return fs.getFileStatus(path);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    /** Something is here (on the local disk, a dangling symbolic link counts). */
    public boolean exists() throws IOException {
        return status() != null || (fs instanceof RawLocalFileSystem && isSymlink());
    }

    public boolean isDirectory() throws IOException {
        FileStatus s = status();
        return s != null && s.isDirectory();
    }

    public boolean isFile() throws IOException {
        FileStatus s = status();
        return s != null && s.isFile();
    }

    /** A symbolic link (never followed when deciding what may be replaced); false where there are none. */
    public boolean isSymlink() throws IOException {
        if (fs instanceof RawLocalFileSystem) {      // Hadoop asks the shell for this; java.nio does not
            return java.nio.file.Files.isSymbolicLink(nioPath());
        }
        if (!fs.supportsSymlinks()) {
            return false;
        }
        try {
            return fs.getFileLinkStatus(path).isSymlink();
        } catch (FileNotFoundException e) {
            return false;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /** A real directory here: not a file, not a symbolic link to one. */
    public boolean isPlainDirectory() throws IOException {
        return !isSymlink() && isDirectory();
    }

    /** The length of this file. */
    public long length() throws IOException {
        return fs.getFileStatus(path).getLen();
    }

    /** The entries of this directory (empty when it is not one), in name order. */
    public List<Location> list() throws IOException {
        List<Location> out = new ArrayList<>();
        FileStatus[] entries;
        try {
            entries = fs.listStatus(path);
        } catch (FileNotFoundException e) {
            return out;
        }
        for (FileStatus s : entries) {
            if (!s.getPath().equals(path)) {          // a file lists as itself
                out.add(new Location(fs, s.getPath(), plain, atomicRename));
            }
        }
        out.sort((a, b) -> a.name().compareTo(b.name()));
        return out;
    }

    public void mkdirs() throws IOException {
        if (!fs.mkdirs(path)) {
            throw new IOException("cannot create the directory " + this);
        }
    }

    /** Deletes this path and everything under it; a symbolic link is removed, never followed. */
    public void delete() throws IOException {
        if (fs instanceof RawLocalFileSystem && isSymlink()) {     // Hadoop skips a dangling one
            java.nio.file.Files.deleteIfExists(nioPath());
            return;
        }
        if (status() != null && !fs.delete(path, true) && status() != null) {
            throw new IOException("cannot delete " + this);
        }
    }

    /** Renames this path to {@code to}, which must not exist (so nothing moves <em>into</em> it). */
    public void renameTo(Location to) throws IOException {
        if (to.exists()) {
            throw new org.apache.hadoop.fs.FileAlreadyExistsException("cannot rename " + this + " to " + to + ": it exists");
        }
        if (!fs.rename(path, to.path)) {
            throw new IOException("cannot rename " + this + " to " + to);
        }
    }

    public FSDataInputStream open() throws IOException {
        return fs.open(path);
    }

    /** A new file (an existing one is an error, not replaced). */
    public FSDataOutputStream create() throws IOException {
        return fs.create(path, false);
    }

    /** Writes {@code bytes} as a new file, durably where the file system can. */
    public void write(byte[] bytes) throws IOException {
        try (FSDataOutputStream out = create()) {
            out.write(bytes);
            sync(out);
        }
    }

    /** At most {@code max + 1} bytes of this file (so a caller can tell "too large" from "exactly max"). */
    public byte[] readAtMost(long max) throws IOException {
        try (InputStream in = open()) {
            return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        }
    }

    /** Flushes {@code out} to durable storage before it is closed, on file systems that can (HDFS, local). */
    public static void sync(OutputStream out) throws IOException {
        if (out instanceof FSDataOutputStream f && f.hasCapability(StreamCapabilities.HSYNC)) {
            f.hsync();
        } else {
            out.flush();
        }
    }

    /** The path on the local disk, for a local file system (also one that names itself otherwise). */
    private java.nio.file.Path nioPath() {
        return java.nio.file.Paths.get(path.toUri().getPath());
    }
}
