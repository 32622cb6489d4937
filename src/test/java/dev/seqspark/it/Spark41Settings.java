package dev.seqspark.it;

import org.apache.spark.internal.config.ConfigBuilder;
import org.apache.spark.internal.config.ConfigEntry;

/**
 * The two settings Spark 4.2's YARN module reads that Spark 4.1 does not have (see {@link SparkYarnModule}): whether
 * a driver's or an executor's container JVM gets {@code -XX:ActiveProcessorCount}. Off, which is 4.1's behaviour.
 */
public final class Spark41Settings {
    private static final ConfigEntry<Object> DRIVER = new ConfigBuilder("spark.driver.limitActiveProcessorCount.enabled")
            .booleanConf().createWithDefault(Boolean.FALSE);
    private static final ConfigEntry<Object> EXECUTOR = new ConfigBuilder("spark.executor.limitActiveProcessorCount.enabled")
            .booleanConf().createWithDefault(Boolean.FALSE);

    private Spark41Settings() {}

    public static ConfigEntry<Object> DRIVER_LIMIT_ACTIVE_PROCESSOR_COUNT_ENABLED(Object config) {
        return DRIVER;
    }

    public static ConfigEntry<Object> EXECUTOR_LIMIT_ACTIVE_PROCESSOR_COUNT_ENABLED(Object config) {
        return EXECUTOR;
    }
}
