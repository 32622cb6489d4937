package dev.seqspark.it;

import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A real HDFS and a real YARN for the integration test (tools/it_clusters.sh): Hadoop's own MiniDFSCluster (one
 * NameNode, one DataNode) and MiniYARNCluster (a ResourceManager and one NodeManager, what Spark's own YARN test
 * suite runs on), at the version Spark ships, on 127.0.0.1 and free ports, in a JVM of its own (its classpath is
 * target/minihadoop-classpath.txt, never Spark's). HDFS is YARN's default file system.
 *
 * <pre>
 * java -cp target/test-classes:$(cat target/minihadoop-classpath.txt) dev.seqspark.it.MiniHadoop serve DATA_DIR CONF_DIR \
 *      [LOCAL_FILE=HDFS_PATH ...]
 * java -cp CONF_DIR:target/test-classes:... dev.seqspark.it.MiniHadoop get hdfs://127.0.0.1:PORT/HDFS_PATH LOCAL_DIR
 * java -cp CONF_DIR:target/test-classes:... dev.seqspark.it.MiniHadoop put LOCAL_FILE hdfs://127.0.0.1:PORT/HDFS_PATH
 * java -cp CONF_DIR:target/test-classes:... dev.seqspark.it.MiniHadoop apps
 * </pre>
 *
 * {@code serve} uploads each LOCAL_FILE to HDFS_PATH, writes the running clusters' configuration to
 * CONF_DIR/{core,hdfs,yarn}-site.xml (a HADOOP_CONF_DIR for clients), then the file system's URI
 * ({@code hdfs://127.0.0.1:RPC_PORT}) to CONF_DIR/fs.uri (atomically, last), and serves until a file CONF_DIR/stop
 * appears; then it shuts down and exits. {@code get} copies a file or a directory tree from HDFS to the local disk,
 * exactly (no .crc files), for the test to compare byte for byte; {@code put} the other way. {@code apps} prints every YARN application as the
 * ResourceManager reports it (YarnClient): id, name, state, final status, diagnostics. Both are clients only.
 */
public final class MiniHadoop {
    private MiniHadoop() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("get")) {
            Path from = new Path(args[1]);
            from.getFileSystem(new Configuration()).copyToLocalFile(false, from, new Path(args[2]), true);
            return;
        }
        if (args.length == 3 && args[0].equals("put")) {
            Path to = new Path(args[2]);
            to.getFileSystem(new Configuration()).copyFromLocalFile(false, true, new Path(args[1]), to);
            return;
        }
        if (args.length == 1 && args[0].equals("apps")) {
            apps();
            return;
        }
        if (args.length < 3 || !args[0].equals("serve")) {
            System.err.println("usage: MiniHadoop serve DATA_DIR CONF_DIR [LOCAL_FILE=HDFS_PATH ...] | get HDFS_URI LOCAL_DIR | put LOCAL_FILE HDFS_URI | apps");
            System.exit(2);
        }
        try {
            serve(args);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);   // the clusters' non-daemon threads would keep a failed JVM alive
        }
    }

    private static void serve(String[] args) throws Exception {
        java.nio.file.Path base = java.nio.file.Path.of(args[1]).toAbsolutePath();
        java.nio.file.Path confDir = java.nio.file.Path.of(args[2]).toAbsolutePath();
        Files.createDirectories(confDir);
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("dfs").toString());
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.replication", 1);
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");        // web UIs (unused) on free ports
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.setInt("dfs.namenode.handler.count", 4);
        conf.setInt("dfs.datanode.handler.count", 4);
        // A small machine: no periodic scanning, quick heartbeats so the DataNode registers at once.
        conf.setInt("dfs.datanode.scan.period.hours", -1);
        conf.setInt("dfs.heartbeat.interval", 1);
        MiniDFSCluster dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
        dfs.waitActive();
        String uri = "hdfs://127.0.0.1:" + dfs.getNameNodePort();

        YarnConfiguration yarnConf = new YarnConfiguration(conf);
        yarnConf.set("fs.defaultFS", uri);
        // One NodeManager with room for an ApplicationMaster and two one-core executors of a small heap each.
        yarnConf.setInt("yarn.nodemanager.resource.memory-mb", 4096);
        yarnConf.setInt("yarn.nodemanager.resource.cpu-vcores", 4);
        yarnConf.setBoolean("yarn.nodemanager.resource.detect-hardware-capabilities", false);
        yarnConf.setInt("yarn.scheduler.minimum-allocation-mb", 128);
        yarnConf.setInt("yarn.scheduler.maximum-allocation-mb", 4096);
        yarnConf.setInt("yarn.scheduler.maximum-allocation-vcores", 4);
        // Containers' JVMs reserve far more virtual memory than they use; a full test disk must not mark the node bad.
        yarnConf.setBoolean("yarn.nodemanager.vmem-check-enabled", false);
        yarnConf.setBoolean("yarn.nodemanager.pmem-check-enabled", false);
        yarnConf.setFloat("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", 99.0f);
        // The capacity scheduler's one queue (no capacity-scheduler.xml on this classpath), open to AMs entirely.
        yarnConf.set("yarn.scheduler.capacity.root.queues", "default");
        yarnConf.setFloat("yarn.scheduler.capacity.root.default.capacity", 100f);
        yarnConf.setFloat("yarn.scheduler.capacity.root.default.maximum-capacity", 100f);
        yarnConf.setFloat("yarn.scheduler.capacity.maximum-am-resource-percent", 1.0f);
        yarnConf.setBoolean("yarn.timeline-service.enabled", false);
        yarnConf.setBoolean("yarn.log-aggregation-enable", false);
        // Keep finished containers' logs where the test reads them; a failed attempt is not retried.
        yarnConf.setInt("yarn.nodemanager.delete.debug-delay-sec", 3600);
        yarnConf.setInt("yarn.resourcemanager.am.max-attempts", 1);
        // Containers run $JAVA_HOME/bin/java: this JVM's JDK, whatever else the machine has.
        yarnConf.set("yarn.nodemanager.admin-env", "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX,JAVA_HOME=" + System.getProperty("java.home"));
        MiniYARNCluster yarn = new MiniYARNCluster("seqspark-it", 1, 1, 1);
        yarn.init(yarnConf);
        yarn.start();
        if (!yarn.waitForNodeManagersToConnect(60_000)) {
            throw new IllegalStateException("the NodeManager did not register with the ResourceManager within 60 s");
        }

        // What a client, an ApplicationMaster and a container need to know, as a cluster's HADOOP_CONF_DIR says it
        // (the whole running configuration would also carry the minicluster's test-only classes).
        Configuration running = yarn.getConfig();
        Configuration core = new Configuration(false);
        core.set("fs.defaultFS", uri);
        Configuration hdfs = new Configuration(false);
        hdfs.setInt("dfs.replication", 1);
        Configuration site = new Configuration(false);
        for (var e : running) {
            if (e.getKey().startsWith("yarn.resourcemanager.") && e.getKey().endsWith(".address")) {
                site.set(e.getKey(), running.get(e.getKey()));
            }
        }
        for (var f : List.of(Map.entry("core-site.xml", core), Map.entry("hdfs-site.xml", hdfs), Map.entry("yarn-site.xml", site))) {
            try (OutputStream out = Files.newOutputStream(confDir.resolve(f.getKey()))) {
                f.getValue().writeXml(out);
            }
        }
        FileSystem fs = FileSystem.get(java.net.URI.create(uri), conf);
        fs.mkdirs(new Path("/user/" + System.getProperty("user.name")));   // Spark's YARN staging directory's parent
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            Path to = new Path(args[i].substring(eq + 1));
            fs.mkdirs(to.getParent());
            fs.copyFromLocalFile(false, true, new Path(args[i].substring(0, eq)), to);
        }
        java.nio.file.Path info = confDir.resolve("fs.uri");
        java.nio.file.Path tmp = confDir.resolve("fs.uri.tmp");
        Files.writeString(tmp, uri + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, info, StandardCopyOption.ATOMIC_MOVE);
        System.err.println("minihadoop: serving " + uri + ", YARN ResourceManager at "
                + running.get(YarnConfiguration.RM_ADDRESS) + ", container logs under " + yarn.getTestWorkDir());
        java.nio.file.Path stop = confDir.resolve("stop");
        while (!Files.exists(stop)) {
            Thread.sleep(200);
        }
        yarn.stop();
        dfs.shutdown();
        System.err.println("minihadoop: stopped");
        System.exit(0);
    }

    private static void apps() throws Exception {
        try (YarnClient client = YarnClient.createYarnClient()) {
            client.init(new YarnConfiguration());
            client.start();
            List<ApplicationReport> reports = client.getApplications();
            reports.sort(Comparator.comparing(ApplicationReport::getApplicationId));
            for (ApplicationReport r : reports) {
                System.out.println(r.getApplicationId() + "  " + r.getName() + "  state " + r.getYarnApplicationState()
                        + "  final status " + r.getFinalApplicationStatus() + "  "
                        + (r.getFinishTime() - r.getStartTime()) / 1000 + " s"
                        + (r.getDiagnostics().isBlank() ? "" : "  diagnostics: " + r.getDiagnostics().replace('\n', ' ')));
            }
        }
    }
}
