package com.loratool.data;

import java.nio.file.Path;

/** One training example on disk: a colour image and its depth / point-cloud file, matched by stem. */
public record Pair(String stem, Path image, Path depth) {}
