package dev.seqspark.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Rounds without a Spark job each ({@code dist.rounds=stream}): one job an epoch, whose tasks train their shards
 * round after round, each round's start read from this channel, a socket the driver serves, and each round's
 * outcome written back to it. What a round then costs is a message each way, not a job's scheduling, task launch,
 * deserialization and result path (100–150 ms a round on a standalone cluster of two executors, against a few here).
 *
 * <p>Retries keep the bits: a task's attempt that connects again is sent the epoch's rounds from the first, replays
 * them (its shards' states are a pure function of the epoch's start and those rounds), and the outcomes the driver
 * already has are dropped; every attempt's outcome of a round is the same bits. A peer must first send the run's
 * secret (it travels inside the task, as Spark ships it), and the messages are plain numbers and bytes, never Java
 * objects.
 */
final class RoundChannel implements AutoCloseable {
    /** Where a task reaches the channel. */
    record Address(String host, int port, byte[] secret) implements Serializable {}

    private static final int ROUND = 1;
    private static final int END = 0;

    private final ServerSocket server;
    private final Address address;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    // Two conditions, so that an outcome wakes only the driver, and a round only the tasks' threads (one wait set
    // would wake every task's thread at every outcome: W² wake-ups a round).
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition published = lock.newCondition();   // a round, the epoch's end, another epoch, closing
    private final Condition delivered = lock.newCondition();   // an outcome, closing
    // the epoch being served, guarded by lock
    private int epoch = -1;
    private int tasks;
    // the rounds' messages as sent: the last few in memory, all in a file (a retried task replays from the first)
    private final java.nio.file.Path log;
    private final java.nio.channels.FileChannel logFile;
    private final List<long[]> logged = new ArrayList<>();   // per round: offset, length in the file
    private final java.util.Map<Integer, byte[]> recent = new java.util.HashMap<>();
    private final List<SparkWorkers.Outcome[]> results = new ArrayList<>();   // null once a round is awaited
    private final List<boolean[]> received = new ArrayList<>();
    private boolean ended;
    private Socket[] connected = new Socket[0];   // per task, its newest attempt's connection
    private long lastHeard;
    private int replayed;
    private volatile boolean closed;

    /** Listens on {@code bindAddress}:{@code port} (0: any free port); tasks connect to {@code host}. */
    RoundChannel(String host, String bindAddress, int port) {
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(bindAddress, port));
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen for the rounds' channel on " + bindAddress + ":" + port
                    + " (dist.rounds_port): " + e.getMessage(), e);
        }
        try {
            log = java.nio.file.Files.createTempFile("seqspark-rounds-", ".bin");
            logFile = java.nio.channels.FileChannel.open(log, java.nio.file.StandardOpenOption.READ,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create the rounds' log: " + e.getMessage(), e);
        }
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        address = new Address(host, server.getLocalPort(), secret);
        Thread acceptor = new Thread(this::accept, "seqspark-rounds-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    Address address() {
        return address;
    }

    /** Serves {@code epoch} to {@code tasks} tasks from now on, forgetting the epoch before. */
    void openEpoch(int epoch, int tasks) {
        lock.lock();
        try {
            openEpochLocked(epoch, tasks);
            published.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void openEpochLocked(int epoch, int tasks) {
        this.epoch = epoch;
        this.tasks = tasks;
        logged.clear();
        recent.clear();
        results.clear();
        received.clear();
        try {
            logFile.truncate(0);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ended = false;
        connected = new Socket[tasks];
        lastHeard = System.nanoTime();
    }

    /** Publishes the epoch's next round; returns its number. */
    int publish(SparkWorkers.RoundStart start) {
        lock.lock();
        try {
            int r = publishLocked(start);
            published.signalAll();
            return r;
        } finally {
            lock.unlock();
        }
    }

    private int publishLocked(SparkWorkers.RoundStart start) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(start.weights().length + 64);
        byte[] message;
        try {
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(ROUND);
            writeStart(out, start);
            out.flush();
            message = bytes.toByteArray();
            long at = logFile.size();
            logFile.write(java.nio.ByteBuffer.wrap(message), at);
            logged.add(new long[] {at, message.length});
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the rounds' log " + log + ": " + e.getMessage(), e);
        }
        int r = logged.size() - 1;
        recent.put(r, message);
        recent.remove(r - KEPT_IN_MEMORY);
        results.add(new SparkWorkers.Outcome[tasks]);
        received.add(new boolean[tasks]);
        return r;
    }

    /** Rounds whose messages stay in memory: those that tasks on time read. */
    private static final int KEPT_IN_MEMORY = 3;

    /** Tells the epoch's tasks that no round follows. */
    void endEpoch() {
        lock.lock();
        try {
            ended = true;
            published.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Shard-rounds trained again by retried tasks since the last call. */
    int takeReplayed() {
        lock.lock();
        try {
            int r = replayed;
            replayed = 0;
            return r;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every task's outcome of round {@code round}, in task order. Fails with the epoch's job when it fails, and when
     * a task has been missing for {@code missingLimitSeconds} while the others wait: then it cannot get a task slot,
     * as all its tasks must run at once.
     */
    SparkWorkers.Outcome[] await(int round, Future<?> job, double missingLimitSeconds) throws InterruptedException {
        lock.lock();
        try {
            return awaitLocked(round, job, missingLimitSeconds);
        } finally {
            lock.unlock();
        }
    }

    private SparkWorkers.Outcome[] awaitLocked(int round, Future<?> job, double missingLimitSeconds)
            throws InterruptedException {
        SparkWorkers.Outcome[] out = results.get(round);
        while (true) {
            int missing = -1;
            int absent = -1;
            for (int t = 0; t < out.length; t++) {
                missing = out[t] == null ? t : missing;
                absent = out[t] == null && connected[t] == null ? t : absent;
            }
            if (missing < 0) {
                results.set(round, null);   // what a retried task sends again is dropped
                return out;
            }
            if (job.isDone()) {
                SparkWorkers.await(job);   // throws the job's failure
                throw new IllegalStateException("the epoch's job ended before round " + (round + 1) + " did");
            }
            if (absent >= 0 && (System.nanoTime() - lastHeard) / 1e9 > missingLimitSeconds) {
                throw new IllegalStateException(String.format("round %d of epoch %d: task %d of %d has not run for "
                        + "%.0f s; with dist.rounds=stream all tasks must run at once, and a task slot was lost or "
                        + "taken: free one, or set dist.rounds=jobs", round + 1, epoch + 1, absent, tasks,
                        missingLimitSeconds));
            }
            delivered.await(100, TimeUnit.MILLISECONDS);
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "seqspark-rounds-task");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (closed || server.isClosed()) {
                    return;
                }
                org.slf4j.LoggerFactory.getLogger(RoundChannel.class).warn("rounds' channel: {}", e.toString());
                try {
                    Thread.sleep(100);   // e.g. out of file descriptors: let it pass rather than spin
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** One task attempt's connection: its epoch's rounds in order, each answered by its outcome. */
    private void serve(Socket s) {
        open.add(s);
        int task = -1;
        int epochOf = -1;
        try (s) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
            s.setSoTimeout(30_000);   // a peer that says nothing does not keep a thread
            byte[] secret = new byte[address.secret().length];
            in.readFully(secret);
            if (!MessageDigest.isEqual(secret, address.secret())) {
                return;
            }
            epochOf = in.readInt();
            task = in.readInt();
            s.setSoTimeout(0);        // a round's training may take long
            if (!connect(epochOf, task, s)) {
                return;
            }
            for (int r = 0; ; r++) {
                byte[] next = next(epochOf, r);
                if (next == null) {
                    out.writeInt(END);
                    out.flush();
                    return;
                }
                out.write(next);
                out.flush();
                deliver(epochOf, r, task, readOutcome(in));
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            // the task's side fails too, and Spark retries it; the driver hears of it from the job
        } finally {
            open.remove(s);
            disconnect(epochOf, task, s);
        }
    }

    /**
     * Task {@code task}'s newest attempt has connected: an older one still connected is closed on (its task fails).
     * When a stage is retried (an executor's loss made a shard's cached block and its shuffle output go), Spark runs
     * every task not yet finished again while the old attempts may still run; the old ones hold task slots the new
     * ones need, and would wait for the new ones' rounds.
     */
    private boolean connect(int e, int task, Socket s) {
        lock.lock();
        try {
            return connectLocked(e, task, s);
        } finally {
            lock.unlock();
        }
    }

    private boolean connectLocked(int e, int task, Socket s) {
        if (e != epoch || task < 0 || task >= tasks) {
            return false;
        }
        Socket older = connected[task];
        if (older != null) {
            try {
                older.close();
            } catch (IOException ignored) {
                // it is going anyway
            }
        }
        connected[task] = s;
        lastHeard = System.nanoTime();
        return true;
    }

    private void disconnect(int e, int task, Socket s) {
        lock.lock();
        try {
            if (e == epoch && task >= 0 && task < tasks && connected[task] == s) {
                connected[task] = null;
                lastHeard = System.nanoTime();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Round {@code r} of epoch {@code e} once published; null when none follows (or the epoch is over). */
    private byte[] next(int e, int r) throws InterruptedException, IOException {
        lock.lock();
        try {
            return nextLocked(e, r);
        } finally {
            lock.unlock();
        }
    }

    private byte[] nextLocked(int e, int r) throws InterruptedException, IOException {
        while (e == epoch && !ended && logged.size() <= r && !closed) {
            published.await();
        }
        if (e != epoch || r >= logged.size()) {
            return null;
        }
        byte[] m = recent.get(r);
        if (m == null) {   // a replay
            m = new byte[(int) logged.get(r)[1]];
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(m);
            while (b.hasRemaining()) {
                if (logFile.read(b, logged.get(r)[0] + b.position()) < 0) {
                    throw new IOException("the rounds' log " + log + " ends early");
                }
            }
        }
        return m;
    }

    private void deliver(int e, int r, int task, SparkWorkers.Outcome o) {
        lock.lock();
        try {
            lastHeard = System.nanoTime();
            if (e != epoch) {
                return;
            }
            if (!received.get(r)[task]) {
                received.get(r)[task] = true;
                results.get(r)[task] = o;
                delivered.signalAll();
            } else {
                replayed += o.figures().size();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            logFile.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        lock.lock();
        try {
            published.signalAll();
            delivered.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A task's end of the channel. */
    static final class Link implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        Link(Address a, int epoch, int task) throws IOException {
            socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(a.host(), a.port()), 30_000);
                socket.setTcpNoDelay(true);
                in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
                out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
                out.write(a.secret());
                out.writeInt(epoch);
                out.writeInt(task);
                out.flush();
            } catch (IOException e) {
                socket.close();
                throw new IOException("cannot reach the driver's rounds' channel at " + a.host() + ":" + a.port()
                        + " (a firewall? set dist.rounds_port to an open port, or dist.rounds=jobs): " + e.getMessage(),
                        e);
            }
        }

        /** The next round to train (waiting for the driver), or null when the epoch has no more. */
        SparkWorkers.RoundStart next() throws IOException {
            return in.readInt() == ROUND ? readStart(in) : null;
        }

        void send(SparkWorkers.Outcome o) throws IOException {
            writeOutcome(out, o);
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // The wire format: big-endian numbers (DataOutputStream), byte arrays as a length (-1: null) and the bytes.

    static void writeStart(DataOutputStream out, SparkWorkers.RoundStart s) throws IOException {
        out.writeInt(s.epoch());
        out.writeBoolean(s.late());
        out.writeBoolean(s.keepMove());
        out.writeInt(s.fromBatch());
        out.writeInt(s.maxBatches());
        writeBytes(out, s.weights());
    }

    static SparkWorkers.RoundStart readStart(DataInputStream in) throws IOException {
        int epoch = in.readInt();
        boolean late = in.readBoolean();
        boolean keepMove = in.readBoolean();
        int fromBatch = in.readInt();
        int maxBatches = in.readInt();
        return new SparkWorkers.RoundStart(epoch, readBytes(in), late, keepMove, fromBatch, maxBatches);
    }

    static void writeOutcome(DataOutputStream out, SparkWorkers.Outcome o) throws IOException {
        out.writeInt(o.figures().size());
        for (SparkWorkers.Figures f : o.figures()) {
            out.writeInt(f.shard());
            out.writeDouble(f.lossSum());
            out.writeLong(f.examples());
            out.writeLong(f.tokens());
            out.writeInt(f.batches());
            out.writeBoolean(f.finite());
            out.writeDouble(f.seconds());
            out.writeInt(f.replayed());
        }
        out.writeDouble(o.channelCpuMs());
        out.writeInt(o.parts().size());
        for (SparkWorkers.Part p : o.parts()) {
            out.writeInt(p.height());
            out.writeInt(p.residue());
            out.writeInt(p.batches());
            writeBytes(out, p.bytes());
        }
    }

    static SparkWorkers.Outcome readOutcome(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<SparkWorkers.Figures> figures = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            figures.add(new SparkWorkers.Figures(in.readInt(), in.readDouble(), in.readLong(), in.readLong(),
                    in.readInt(), in.readBoolean(), in.readDouble(), in.readInt()));
        }
        double channelCpuMs = in.readDouble();
        int m = in.readInt();
        List<SparkWorkers.Part> parts = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            parts.add(new SparkWorkers.Part(in.readInt(), in.readInt(), in.readInt(), readBytes(in)));
        }
        return new SparkWorkers.Outcome(figures, parts, channelCpuMs);
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b == null ? -1 : b.length);
        if (b != null) {
            out.write(b);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < -1 || n > (1 << 30)) {
            throw new IOException("bad length " + n + " on the rounds' channel");
        }
        if (n == -1) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
