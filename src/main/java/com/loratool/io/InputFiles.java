package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one check made on an input path before it is opened (docs/reliability.md): a file must be a
 * regular file (symlinks followed) and a folder a folder. A FIFO, socket or device is refused by
 * its attributes, never opened, so a named pipe given as {@code --weights} cannot hang the program.
 */
public final class InputFiles {
    private InputFiles() {}

    /** {@code file}, or a one-line error saying what it is instead of a regular file. */
    public static Path regularFile(Path file) {
        BasicFileAttributes a = attributes(file);
        if (!a.isRegularFile()) {
            throw LoraException.file(file, "is " + kind(a) + ", not a regular file");
        }
        return file;
    }

    /** {@code dir}, or a one-line error saying what it is instead of a folder. */
    public static Path folder(Path dir) {
        BasicFileAttributes a = attributes(dir);
        if (!a.isDirectory()) {
            throw LoraException.file(dir, "is " + kind(a) + ", not a folder");
        }
        return dir;
    }

    private static BasicFileAttributes attributes(Path p) {
        if (!Files.exists(p)) {
            throw LoraException.file(p, "file not found");
        }
        try {
            return Files.readAttributes(p, BasicFileAttributes.class);
        } catch (IOException e) {
            throw LoraException.file(p, "cannot read its attributes (" + e.getMessage() + ")", e);
        }
    }

    private static String kind(BasicFileAttributes a) {
        if (a.isDirectory()) {
            return "a folder";
        }
        if (a.isOther()) {
            return "a special file (FIFO, socket or device)";
        }
        return "not a regular file";
    }
}
