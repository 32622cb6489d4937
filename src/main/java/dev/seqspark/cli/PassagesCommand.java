package dev.seqspark.cli;

import dev.seqspark.text.Passages;
import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code seqspark passages}: labelled passages of books, for an authorship classifier (text.Passages' rule), as
 * {@code train.tsv} and {@code test.tsv} ({@code label<TAB>passage} lines), the test passages the last ones of
 * each book.
 */
@Command(name = "passages", mixinStandardHelpOptions = true,
        description = {"Cut books into passages of whole sentences (at least --min-chars characters each) and write",
                "DIR/train.tsv and DIR/test.tsv as label<TAB>passage lines: the last --test-fraction of each book's",
                "passages are the test split, so no test passage overlaps the training text."})
public final class PassagesCommand implements Callable<Integer> {
    @Option(names = "--book", paramLabel = "LABEL=PATH", required = true,
            description = "a book (UTF-8 text) and its label; repeat for every book")
    List<String> books = new ArrayList<>();
    @Option(names = "--output", paramLabel = "DIR", required = true, description = "where train.tsv and test.tsv go")
    Path output;
    @Option(names = "--min-chars", defaultValue = "250", description = "a passage's least length (default: ${DEFAULT-VALUE})")
    int minChars;
    @Option(names = "--test-fraction", defaultValue = "0.1",
            description = "the last fraction of each book's passages held out (default: ${DEFAULT-VALUE})")
    double testFraction;
    @Option(names = "--overwrite", description = "replace train.tsv and test.tsv if they exist")
    boolean overwrite;

    static final String TRAIN = "train.tsv";
    static final String TEST = "test.tsv";

    @Override
    public Integer call() throws IOException {
        if (minChars <= 0 || !(testFraction >= 0 && testFraction < 1)) {
            throw new UserError("--min-chars must be positive and --test-fraction in [0, 1)");
        }
        Map<String, Path> byLabel = new LinkedHashMap<>();
        for (String b : books) {
            int eq = b.indexOf('=');
            if (eq <= 0 || eq == b.length() - 1) {
                throw new UserError("--book expects LABEL=PATH, got '" + b + "'");
            }
            String label = b.substring(0, eq).strip();
            if (label.isEmpty() || label.contains("\t") || byLabel.put(label, Path.of(b.substring(eq + 1))) != null) {
                throw new UserError("--book labels must be distinct, non-empty and without tabs: '" + label + "'");
            }
        }
        if (byLabel.size() < 2) {
            throw new UserError("give at least two --book LABEL=PATH (a classifier needs two classes)");
        }
        for (String f : List.of(TRAIN, TEST)) {
            if (Files.exists(output.resolve(f)) && !overwrite) {
                throw new UserError(output.resolve(f) + " exists; add --overwrite to replace it");
            }
        }
        List<String> train = new ArrayList<>();
        List<String> test = new ArrayList<>();
        for (Map.Entry<String, Path> e : byLabel.entrySet()) {
            List<String> passages = Passages.of(readLines(e.getValue()), minChars);
            if (passages.isEmpty()) {
                throw new UserError("the book " + e.getValue() + " has no passage of " + minChars + " characters");
            }
            List<List<String>> parts = Passages.split(passages, testFraction);
            parts.get(0).forEach(p -> train.add(e.getKey() + "\t" + p));
            parts.get(1).forEach(p -> test.add(e.getKey() + "\t" + p));
            System.err.printf("passages: %s: %s: %,d passages (%,d train, %,d test), %,d characters%n", e.getKey(),
                    e.getValue(), passages.size(), parts.get(0).size(), parts.get(1).size(),
                    passages.stream().mapToLong(String::length).sum());
        }
        Files.createDirectories(output);
        write(output.resolve(TRAIN), train);
        write(output.resolve(TEST), test);
        System.err.printf("passages: wrote %s (%,d) and %s (%,d)%n", output.resolve(TRAIN), train.size(),
                output.resolve(TEST), test.size());
        return 0;
    }

    private static List<String> readLines(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new UserError("the book " + p + " does not exist");
        }
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        String text = decoder.decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(p))).toString();
        return text.lines().toList();
    }

    /** Into a temporary sibling, then renamed: a reader never sees half a file. */
    private static void write(Path f, List<String> lines) throws IOException {
        Path tmp = Files.createTempFile(f.getParent(), "." + f.getFileName(), ".tmp");
        try {
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
