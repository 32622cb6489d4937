package dev.seqspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The rounds' channel over real loopback sockets: what tasks read and send, retries, strangers, a missing task. */
class RoundChannelTest {

    private static SparkWorkers.RoundStart start(int epoch, float... w) {
        return SparkWorkers.RoundStart.of(epoch, w, true, false, 4, 2);
    }

    private static SparkWorkers.Outcome outcome(int shard, float w) {
        SparkWorkers.Figures f = new SparkWorkers.Figures(shard, 1.5, 7, 8, 2, true, 0.25, 0);
        SparkWorkers.Part p = new SparkWorkers.Part(0, shard, 2, SparkWorkers.Outcome.bytes(new float[] {w}));
        return new SparkWorkers.Outcome(List.of(f), List.of(p, new SparkWorkers.Part(1, 0, 0, null)), 0.5);
    }

    @Test
    void tasksReadEveryRoundAndTheDriverGetsEveryOutcome() throws Exception {
        try (RoundChannel c = new RoundChannel("127.0.0.1", "127.0.0.1", 0)) {
            c.openEpoch(3, 2);
            CompletableFuture<Void> job = new CompletableFuture<>();
            int r0 = c.publish(start(3, 1f, 2f));
            try (RoundChannel.Link a = new RoundChannel.Link(c.address(), 3, 0);
                 RoundChannel.Link b = new RoundChannel.Link(c.address(), 3, 1)) {
                SparkWorkers.RoundStart in = a.next();
                assertEquals(3, in.epoch());
                assertArrayEquals(new float[] {1f, 2f}, in.base());
                assertTrue(in.late());
                assertEquals(4, in.fromBatch());
                assertEquals(2, in.maxBatches());
                b.next();
                a.send(outcome(0, 0.5f));
                b.send(outcome(1, 0.75f));
                SparkWorkers.Outcome[] got = c.await(r0, job, 60);
                assertEquals(0, got[0].figures().get(0).shard());
                assertEquals(1, got[1].figures().get(0).shard());
                assertEquals(new SparkWorkers.Figures(1, 1.5, 7, 8, 2, true, 0.25, 0), got[1].figures().get(0));
                assertArrayEquals(SparkWorkers.Outcome.bytes(new float[] {0.75f}), got[1].parts().get(0).bytes());
                assertNull(got[1].parts().get(1).bytes());
                assertEquals(0.5, got[0].channelCpuMs());

                // a retried task 1 connects again: it is sent round 0 from the log, its result dropped and counted
                int r1 = c.publish(start(3, 3f));
                try (RoundChannel.Link again = new RoundChannel.Link(c.address(), 3, 1)) {
                    assertArrayEquals(new float[] {1f, 2f}, again.next().base());
                    assertThrows(IOException.class, () -> {
                        for (int i = 0; i < 3; i++) {
                            b.next();
                        }
                    }, "the older attempt of task 1 is closed on: it would hold a slot the new one needs");
                    again.send(outcome(1, 0.75f));
                    assertArrayEquals(new float[] {3f}, again.next().base());
                    a.next();
                    a.send(outcome(0, 1f));
                    again.send(outcome(1, 2f));
                    assertEquals(2f, SparkWorkers.Outcome.floats(c.await(r1, job, 60)[1].parts().get(0).bytes()).get(0));
                    assertEquals(1, c.takeReplayed());
                    c.endEpoch();
                    assertNull(a.next());
                    assertNull(again.next());
                }
            }
        }
    }

    @Test
    void aPeerWithoutTheSecretIsDroppedAndOldEpochsAreRefused() throws Exception {
        try (RoundChannel c = new RoundChannel("127.0.0.1", "127.0.0.1", 0)) {
            c.openEpoch(1, 1);
            c.publish(start(1, 1f));
            try (Socket s = new Socket("127.0.0.1", c.address().port())) {
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.write(new byte[c.address().secret().length]);   // zeros: the wrong secret
                out.writeInt(1);
                out.writeInt(0);
                out.flush();
                assertEquals(-1, new DataInputStream(s.getInputStream()).read(), "closed without a word");
            }
            try (RoundChannel.Link stale = new RoundChannel.Link(c.address(), 0, 0)) {
                assertThrows(IOException.class, stale::next, "a task of an epoch that is over is closed on");
            }
        }
    }

    @Test
    void aTaskThatNeverRunsFailsTheRoundWithAMessage() throws Exception {
        try (RoundChannel c = new RoundChannel("127.0.0.1", "127.0.0.1", 0)) {
            c.openEpoch(0, 2);
            int r = c.publish(start(0, 1f));
            try (RoundChannel.Link a = new RoundChannel.Link(c.address(), 0, 0)) {
                a.next();
                a.send(outcome(0, 1f));
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> c.await(r, new CompletableFuture<Void>(), 0.3));
                assertTrue(e.getMessage().contains("task 1 of 2 has not run") && e.getMessage().contains("dist.rounds=jobs"),
                        e.getMessage());
            }
            CompletableFuture<Void> failed = CompletableFuture.failedFuture(new IllegalArgumentException("lost"));
            assertEquals("lost", assertThrows(IllegalArgumentException.class, () -> c.await(r, failed, 60)).getMessage(),
                    "the job's own failure is what the driver reports");
        }
    }
}
