package dev.seqspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** dist.sync_every: one K for every epoch, or K epoch by epoch with the last one kept. */
class SyncScheduleTest {

    @Test
    void theLastValueHoldsForEveryLaterEpoch() {
        SyncSchedule s = SyncSchedule.parse("1, 2,8");
        assertEquals(1, s.batches(0));
        assertEquals(2, s.batches(1));
        assertEquals(8, s.batches(2));
        assertEquals(8, s.batches(40));
        assertEquals("1,2,8", s.id());
        assertEquals(s, SyncSchedule.parse(s.id()));
        assertEquals("every 1 batch in epoch 1, 2 in epoch 2, 8 from epoch 3", s.toString());
    }

    @Test
    void oneValueIsEveryEpochAndZeroIsOncePerEpoch() {
        assertEquals(4, SyncSchedule.parse("4").batches(9));
        assertEquals("once per epoch", SyncSchedule.every(0).toString());
        assertEquals("every 1 batch in epoch 1, all from epoch 2", SyncSchedule.parse("1,0").toString());
    }

    @Test
    void badSchedulesAreRefusedWithTheirText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SyncSchedule.parse("2,x"));
        assertEquals("a sync schedule is K or K1,K2,... (batches, >= 0), got '2,x'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SyncSchedule.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> SyncSchedule.parse(""));
    }
}
