package dev.seqspark.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS for the integration test (tools/it_standalone.sh): one NameNode and one DataNode, Hadoop's own
 * MiniDFSCluster at the version Spark ships, on 127.0.0.1 and free ports, in a JVM of its own (its classpath is
 * target/minihdfs-classpath.txt, never Spark's).
 *
 * <pre>
 * java -cp target/test-classes:$(cat target/minihdfs-classpath.txt) dev.seqspark.it.MiniHdfs serve DATA_DIR INFO_FILE \
 *      [LOCAL_FILE=HDFS_PATH ...]
 * java -cp ... dev.seqspark.it.MiniHdfs get hdfs://127.0.0.1:PORT/HDFS_PATH LOCAL_DIR
 * </pre>
 *
 * {@code serve} uploads each LOCAL_FILE to HDFS_PATH, then writes the file system's URI
 * ({@code hdfs://127.0.0.1:RPC_PORT}) to INFO_FILE (atomically) and serves until a file INFO_FILE.stop appears,
 * then shuts down cleanly and exits (a kill also stops it; its data directory is then just left behind). {@code get} copies a file or a directory tree from HDFS to the local disk, exactly (no .crc
 * files), for the test to compare byte for byte; it is a client only.
 */
public final class MiniHdfs {
    private MiniHdfs() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("get")) {
            Path from = new Path(args[1]);
            from.getFileSystem(new Configuration()).copyToLocalFile(false, from, new Path(args[2]), true);
            return;
        }
        if (args.length < 3 || !args[0].equals("serve")) {
            System.err.println("usage: MiniHdfs serve DATA_DIR INFO_FILE [LOCAL_FILE=HDFS_PATH ...] | get HDFS_URI LOCAL_DIR");
            System.exit(2);
        }
        java.nio.file.Path base = java.nio.file.Path.of(args[1]).toAbsolutePath();
        java.nio.file.Path info = java.nio.file.Path.of(args[2]).toAbsolutePath();
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.replication", 1);
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");        // its web UI (unused) on a free port
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.setInt("dfs.namenode.handler.count", 4);
        conf.setInt("dfs.datanode.handler.count", 4);
        // A small machine: no periodic scanning, quick heartbeats so the DataNode registers at once.
        conf.setInt("dfs.datanode.scan.period.hours", -1);
        conf.setInt("dfs.heartbeat.interval", 1);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
        cluster.waitActive();
        String uri = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
        FileSystem fs = FileSystem.get(java.net.URI.create(uri), conf);
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            Path to = new Path(args[i].substring(eq + 1));
            fs.mkdirs(to.getParent());
            fs.copyFromLocalFile(false, true, new Path(args[i].substring(0, eq)), to);
        }
        java.nio.file.Path tmp = info.resolveSibling(info.getFileName() + ".tmp");
        Files.writeString(tmp, uri + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, info, StandardCopyOption.ATOMIC_MOVE);
        System.err.println("minihdfs: serving " + uri);
        java.nio.file.Path stop = info.resolveSibling(info.getFileName() + ".stop");
        while (!Files.exists(stop)) {
            Thread.sleep(200);
        }
        cluster.shutdown();
        System.err.println("minihdfs: stopped");
        System.exit(0);
    }
}
