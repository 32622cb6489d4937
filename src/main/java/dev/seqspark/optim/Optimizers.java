package dev.seqspark.optim;

import java.util.List;
import java.util.Locale;

/** Optimizers by name, as configs name them. */
public final class Optimizers {
    /** The names {@link #create} knows. */
    public static final List<String> NAMES = List.of("sgd", "adam");
    /** The optimizer of a run whose settings name none (train.optimizer's default). */
    public static final String DEFAULT = "sgd";

    private Optimizers() {}

    /** {@code sgd} (plain torch.optim.SGD) or {@code adam} (torch.optim.Adam defaults) at learning rate {@code lr}. */
    public static Optimizer create(String name, int size, double lr) {
        return switch (key(name)) {
            case "sgd" -> new Sgd(size, lr, 0, 0);
            case "adam" -> new Adam(size, lr);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'; expected sgd or adam");
        };
    }

    /** Whether {@link #create} knows {@code name} (case and surrounding blanks do not matter). */
    public static boolean isKnown(String name) {
        return NAMES.contains(key(name));
    }

    /** Floats of optimizer state per parameter: 0 for plain SGD, 2 for Adam. */
    public static int stateCopies(String name) {
        return key(name).equals("adam") ? 2 : 0;
    }

    /**
     * Floats of optimizer state for a model of {@code parameters} weights; an IllegalArgumentException when
     * that is more than one float[] holds (Adam on a model of over 2^30 parameters), instead of an int overflow.
     */
    public static int stateSize(String name, int parameters) {
        long n = (long) stateCopies(name) * parameters;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(name + " keeps " + stateCopies(name) + " values per parameter: " + n
                    + " floats for " + parameters + " parameters, more than one float[] holds");
        }
        return (int) n;
    }

    private static String key(String name) {
        return name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    }
}
