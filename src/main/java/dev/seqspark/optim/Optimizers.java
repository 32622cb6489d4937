package dev.seqspark.optim;

import java.util.Locale;

/** Optimizers by name, as configs name them. */
public final class Optimizers {
    private Optimizers() {}

    /** {@code sgd} (plain torch.optim.SGD) or {@code adam} (torch.optim.Adam defaults) at learning rate {@code lr}. */
    public static Optimizer create(String name, int size, double lr) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(size, lr, 0, 0);
            case "adam" -> new Adam(size, lr);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'; expected sgd or adam");
        };
    }

    /** Floats of optimizer state per parameter: 0 for plain SGD, 2 for Adam. */
    public static int stateCopies(String name) {
        return "adam".equalsIgnoreCase(name.trim()) ? 2 : 0;
    }
}
