package com.loratool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.bench.PeerBaseline;
import com.loratool.config.ConfigLoader;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Cv;
import com.loratool.data.GeometryOutputs;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import com.loratool.io.Npz;
import com.loratool.model.HfConfig;
import com.loratool.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Every reader of a user's file refuses a FIFO and a folder itself, by the path's attributes, so
 * that no caller can forget: a FIFO is never opened (it would block for ever, as
 * {@code eval-completion --predictions DIR} did on a FIFO {@code <stem>.npy}), and the message says
 * what the path is instead of "no such file" or "cannot decode".
 */
class ReadersRefuseSpecialFilesTest {
    @TempDir
    static Path tmp;

    static Path fifo;
    static Path folder;

    record Reader(String name, Consumer<Path> read) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Reader> readers() {
        return Stream.of(
                new Reader("Npy", Npy::read),
                new Reader("Npz", Npz::read),
                new Reader("Checksums", Checksums::sha256),
                new Reader("Cv.imread", p -> Cv.imread(p, Imgcodecs.IMREAD_UNCHANGED, "image")),
                new Reader("CameraIntrinsics", p -> CameraIntrinsics.parseOrRead(p.toString())),
                new Reader("ModelConfig", ModelConfig::fromYaml),
                new Reader("HfConfig", HfConfig::read),
                new Reader("ConfigLoader", p -> ConfigLoader.load(p, List.of())),
                new Reader("OnnxRuntimeModel", p -> OnnxRuntimeModel.open(p, 1)),
                new Reader("PeerBaseline", PeerBaseline::read));
    }

    @BeforeEach
    void paths() throws Exception {
        if (fifo == null) {
            fifo = tmp.resolve("pipe.json");
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
            assertEquals(0, p.waitFor(), "mkfifo");
            folder = Files.createDirectories(tmp.resolve("folder.json"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readers")
    void aFifoIsRefusedWithoutBeingOpened(Reader r) {
        LoraException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(LoraException.class, () -> r.read().accept(fifo)));
        assertEquals(fifo + ": is a special file (FIFO, socket or device), not a regular file", e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readers")
    void aFolderIsCalledAFolder(Reader r) {
        LoraException e = assertThrows(LoraException.class, () -> r.read().accept(folder));
        assertTrue(e.getMessage().startsWith(folder + ": is a folder, not a "), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readers")
    void aMissingFileIsNotFound(Reader r) {
        Path missing = tmp.resolve("missing.json");
        LoraException e = assertThrows(LoraException.class, () -> r.read().accept(missing));
        assertFalse(e.getMessage().contains("FIFO") || e.getMessage().contains("folder"), e.getMessage());
    }

    @Test
    void npySniffingNeverOpensAFifo() {
        assertFalse(assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Npy.looksLikeNpy(fifo)));
    }

    @Test
    void alignToAFifoSaysSoInsteadOfNotFound() {
        LoraException e = assertThrows(LoraException.class, () -> new GeometryOutputs(
                new GeometryOutputs.Settings(fifo, false, false, false, false, null), List.of(tmp.resolve("a.png"))));
        assertEquals(fifo + ": is a special file (FIFO, socket or device), not a depth file or folder", e.getMessage());
    }
}
