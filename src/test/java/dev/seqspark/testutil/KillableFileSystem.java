package dev.seqspark.testutil;

import java.io.IOException;
import java.net.URI;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local disk under another scheme ({@code killable:}), for tests of what SeqSpark does on a file system
 * it does not know: by default not one of {@link dev.seqspark.io.Location#DEFAULT_ATOMIC_RENAME_SCHEMES}, so
 * it is treated as an object store (commit marker), and then it refuses to rename a directory, as a real object
 * store cannot do so atomically. It can also "kill the process" at its n-th change of the file system (throw
 * {@link Killed}, which nothing catches), and call back when a file is opened.
 */
public class KillableFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "killable";
    private static final URI NAME = URI.create(SCHEME + ":///");

    /** What a SIGKILL is to the writer: no catch block, no cleanup runs. */
    public static final class Killed extends Error {
        private static final long serialVersionUID = 1L;

        Killed(String what) {
            super("killed before " + what);
        }
    }

    private int killAt = -1;
    private int changes;
    private Consumer<Path> onOpen = p -> { };

    /** A new instance (not Hadoop's cached one), on {@code conf}. */
    public static KillableFileSystem create(Configuration conf) throws IOException {
        KillableFileSystem fs = new KillableFileSystem();
        fs.initialize(NAME, conf);
        return fs;
    }

    /** The configuration that registers this class for its scheme. */
    public static Configuration conf(boolean atomicRename) {
        Configuration c = new Configuration();
        c.set("fs." + SCHEME + ".impl", KillableFileSystem.class.getName());
        c.setBoolean("fs." + SCHEME + ".impl.disable.cache", true);
        if (atomicRename) {
            c.set(dev.seqspark.io.Location.ATOMIC_RENAME_SCHEMES, "file," + SCHEME);
        }
        return c;
    }

    /** Throw {@link Killed} instead of making the n-th change from now on (1 = the next); -1: never. */
    public KillableFileSystem killAt(int n) {
        killAt = n;
        changes = 0;
        return this;
    }

    public int changes() {
        return changes;
    }

    public KillableFileSystem onOpen(Consumer<Path> callback) {
        onOpen = callback;
        return this;
    }

    public static Path path(java.nio.file.Path local) {
        return new Path(SCHEME, null, local.toAbsolutePath().toString());
    }

    @Override
    public URI getUri() {
        return NAME;
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    private boolean objectStore() {
        return !dev.seqspark.io.Location.of(this, new Path("/")).atomicRename();
    }

    private void change(String what) {
        if (killAt > 0 && ++changes == killAt) {
            throw new Killed(what);
        }
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize, short replication,
                                     long blockSize, Progressable progress) throws IOException {
        change("create " + f);
        return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public boolean mkdirs(Path f) throws IOException {
        change("mkdirs " + f);
        return super.mkdirs(f);
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) throws IOException {
        change("mkdirs " + f);
        return super.mkdirs(f, permission);
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        change("rename " + src + " to " + dst);
        if (objectStore() && getFileStatus(src).isDirectory()) {
            throw new IOException("this object store does not rename directories (" + src + ")");
        }
        return super.rename(src, dst);
    }

    @Override
    public boolean delete(Path p, boolean recursive) throws IOException {
        change("delete " + p);
        return super.delete(p, recursive);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        onOpen.accept(f);
        return super.open(f, bufferSize);
    }
}
