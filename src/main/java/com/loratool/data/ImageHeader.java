package com.loratool.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image's height and width from its header alone (ImageIO's reader reads PNG's IHDR, JPEG's
 * SOF, BMP/TIFF headers without decoding pixels), so that the memory a request needs can be
 * estimated before the image is decoded. Empty for formats ImageIO has no reader for (webp, jp2)
 * and for files it cannot read: the decoder reports those itself.
 */
public final class ImageHeader {
    private ImageHeader() {}

    /** Height and width, or empty when the header cannot be read here. */
    public static Optional<int[]> size(Path image) {
        return size((Object) image.toFile());
    }

    /** The same for an encoded image in memory (a network request's file). */
    public static Optional<int[]> size(byte[] encoded) {
        return size((Object) new ByteArrayInputStream(encoded));
    }

    private static Optional<int[]> size(Object source) {
        try (ImageInputStream in = ImageIO.createImageInputStream(source)) {
            if (in == null) {
                return Optional.empty();
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return Optional.empty();
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                return Optional.of(new int[] {r.getHeight(0), r.getWidth(0)});
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
