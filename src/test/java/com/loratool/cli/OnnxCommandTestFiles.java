package com.loratool.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

final class OnnxCommandTestFiles {
    private OnnxCommandTestFiles() {}

    static String read(Path p) throws IOException {
        return Files.readString(p);
    }

    /** File names in a folder, sorted. */
    static String[] names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }
}
