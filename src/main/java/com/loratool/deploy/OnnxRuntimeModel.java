package com.loratool.deploy;

import com.loratool.io.InputFiles;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.loratool.LoraException;
import com.loratool.io.NativeLibraries;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * An exported Depth Anything model in ONNX Runtime (CPU): input {@code image} N x 3 x H x W float32
 * (normalised), output {@code depth} N x H x W float32 in the model's unit, and for Depth Anything 3
 * a second output {@code sky} N x H x W ({@link #hasSky()}, {@link #runWithSky}). Opening checks
 * that the file is ONNX and has that interface; each failure is one line naming the file.
 */
public final class OnnxRuntimeModel implements AutoCloseable {
    public static final String INPUT = "image";
    public static final String OUTPUT = "depth";
    /** Depth Anything 3's second output: the sky head (ReLU), before the sky post-processing. */
    public static final String SKY = "sky";

    private final Path file;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final long[] inputShape;
    private final Map<String, String> metadata;
    private final boolean sky;

    private OnnxRuntimeModel(Path file, OrtEnvironment env, OrtSession session, long[] inputShape,
                             Map<String, String> metadata, boolean sky) {
        this.sky = sky;
        this.file = file;
        this.env = env;
        this.session = session;
        this.inputShape = inputShape;
        this.metadata = metadata;
    }

    /** Opens the file with {@code threads} intra-op threads (0: ONNX Runtime's default). */
    public static OnnxRuntimeModel open(Path file, int threads) {
        InputFiles.regularFile(file);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read: " + e.getMessage());
        }
        return open(file, bytes, threads);
    }

    private static OrtEnvironment environment;

    /**
     * The process's ONNX Runtime environment. Its loader unpacks the native library into a new folder
     * in {@code java.io.tmpdir} on first use, so that folder is checked first: a missing or read-only
     * one is a one-line error naming it and the setting, not an {@code ExceptionInInitializerError}.
     */
    static synchronized OrtEnvironment environment() {
        if (environment == null) {
            NativeLibraries.requireTmpdir("ONNX Runtime");
            environment = OrtEnvironment.getEnvironment();
        }
        return environment;
    }

    /** Opens a serialised model; {@code file} only names it in errors. */
    public static OnnxRuntimeModel open(Path file, byte[] bytes, int threads) {
        OrtEnvironment env = environment();
        OrtSession session;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            if (threads > 0) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
            }
            so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(bytes, so);
        } catch (OrtException e) {
            throw LoraException.file(file, "not a valid ONNX model (ONNX Runtime: " + firstLine(e.getMessage()) + ")");
        }
        try {
            long[] in = check(file, session.getInputInfo(), INPUT, 4, "N x 3 x H x W");
            if (in[1] != 3) {
                throw LoraException.file(file, "input '" + INPUT + "' has " + in[1] + " channels, expected N x 3 x H x W");
            }
            Map<String, NodeInfo> outs = session.getOutputInfo();
            boolean sky = outs.size() == 2 && outs.containsKey(OUTPUT) && outs.containsKey(SKY);
            if (sky) {
                check(file, Map.of(SKY, outs.get(SKY)), SKY, 3, "N x H x W");
                outs = Map.of(OUTPUT, outs.get(OUTPUT));
            }
            check(file, outs, OUTPUT, 3, "N x H x W");
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            return new OnnxRuntimeModel(file, env, session, in, meta, sky);
        } catch (OrtException e) {
            close(session);
            throw LoraException.file(file, "ONNX Runtime: " + firstLine(e.getMessage()));
        } catch (RuntimeException e) {
            close(session);
            throw e;
        }
    }

    private static long[] check(Path file, Map<String, NodeInfo> info, String name, int rank, String what) {
        if (info.size() != 1 || !info.containsKey(name)) {
            throw LoraException.file(file, "expected one " + (rank == 4 ? "input" : "output") + " '" + name + "' ("
                    + what + " float32)" + (rank == 4 ? "" : " or the outputs '" + OUTPUT + "' and '" + SKY
                    + "' (Depth Anything 3)") + ", the model has " + info.keySet());
        }
        if (!(info.get(name).getInfo() instanceof TensorInfo t) || t.type != OnnxJavaType.FLOAT
                || t.getShape().length != rank) {
            throw LoraException.file(file, "'" + name + "' is " + info.get(name).getInfo() + ", expected " + what
                    + " float32");
        }
        return t.getShape();
    }

    private static void close(OrtSession s) {
        try {
            s.close();
        } catch (OrtException ignored) {
            // closing a session that failed its checks
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    /** metadata_props as written by the exporter. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The fixed input height and width, or null for a dynamic model. */
    public int[] fixedSize() {
        return inputShape[2] > 0 && inputShape[3] > 0 ? new int[] {(int) inputShape[2], (int) inputShape[3]} : null;
    }

    /** Metric (metres) or relative disparity, from the metadata's output_unit. */
    public boolean isMetric() {
        return "metres".equals(metadata.get("output_unit"));
    }

    /**
     * The model family the graph was exported from: a graph with the output {@code sky} is Depth Anything 3,
     * da3metric when its depth is canonical (metres = focal x depth / 300), else da3mono; without it V2.
     */
    public ModelConfig.Family family() {
        if (!sky) {
            return ModelConfig.Family.V2;
        }
        return metadata.getOrDefault("output_unit", "").startsWith("canonical_depth") ? ModelConfig.Family.DA3METRIC
                : ModelConfig.Family.DA3MONO;
    }

    /** True for a graph with Depth Anything 3's second output {@code sky}. */
    public boolean hasSky() {
        return sky;
    }

    /** x: n x 3 x h x w values → n x h x w depth values (a Depth Anything 3 graph's sky output is not read). */
    public float[] run(float[] x, int n, int h, int w) {
        return outputs(x, n, h, w, false)[0];
    }

    /**
     * A Depth Anything 3 graph ({@link #hasSky()}): x → {depth, sky}, n x h x w values each, before
     * the sky post-processing ({@code model.Da3Outputs}).
     */
    public float[][] runWithSky(float[] x, int n, int h, int w) {
        if (!sky) {
            throw LoraException.file(file, "has no '" + SKY + "' output (not a Depth Anything 3 graph)");
        }
        return outputs(x, n, h, w, true);
    }

    private float[][] outputs(float[] x, int n, int h, int w, boolean withSky) {
        if (inputShape[0] > 0 && inputShape[0] != n
                || fixedSize() != null && (fixedSize()[0] != h || fixedSize()[1] != w)) {
            throw LoraException.file(file, "input " + n + "x3x" + h + "x" + w + " does not fit the model's "
                    + Arrays.toString(inputShape));
        }
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 3, h, w});
             OrtSession.Result r = session.run(Map.of(INPUT, t))) {
            float[] d = values(r, OUTPUT, n, h, w);
            return withSky ? new float[][] {d, values(r, SKY, n, h, w)} : new float[][] {d};
        } catch (OrtException e) {
            throw LoraException.file(file, "ONNX Runtime: " + firstLine(e.getMessage()));
        }
    }

    private float[] values(OrtSession.Result r, String name, int n, int h, int w) throws OrtException {
        OnnxTensor out = (OnnxTensor) r.get(name).orElseThrow(() -> LoraException.file(file, "no output '" + name + "'"));
        FloatBuffer b = out.getFloatBuffer();
        float[] d = new float[b.remaining()];
        b.get(d);
        if (d.length != (long) n * h * w) {
            throw LoraException.file(file, "output '" + name + "' has " + Arrays.toString(out.getInfo().getShape())
                    + ", expected " + n + "x" + h + "x" + w);
        }
        return d;
    }

    @Override
    public void close() {
        close(session);
    }
}
