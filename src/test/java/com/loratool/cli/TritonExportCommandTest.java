package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.TextFormat;
import com.loratool.LoraException;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.deploy.TritonRepository;
import com.loratool.deploy.proto.TritonModelConfig.DataType;
import com.loratool.deploy.proto.TritonModelConfig.ModelConfig;
import com.loratool.deploy.proto.TritonModelConfig.ModelInput;
import com.loratool.deploy.proto.TritonModelConfig.ModelInstanceGroup;
import com.loratool.deploy.proto.TritonModelConfig.ModelOutput;
import com.loratool.io.Checksums;
import com.loratool.model.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code lora export --format triton}: the repository's layout, config.pbtxt read back as protobuf
 * text format with our subset of Triton's model_config.proto and checked against the graph ONNX
 * Runtime loads, the certificate beside model.onnx (batch 1 and 2), a config written by hand in the
 * style of Triton's documentation read with the same schema, and the one-line refusals that write
 * nothing.
 */
class TritonExportCommandTest {
    static final Path FIX = Path.of(System.getProperty("fixtures.dir", "fixtures"), "da2-tiny");
    static final String YAML = FIX.resolve("model.yaml").toString();
    static final String WEIGHTS = FIX.resolve("weights.pth").toString();

    @TempDir
    Path tmp;

    private record Run(int rc, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    private Run export(Path repo, String... more) {
        List<String> a = new ArrayList<>(List.of("export", "--format", "triton", "--weights", WEIGHTS,
                "--model-config", YAML, "--input-size", "70", "--output", repo.toString()));
        a.addAll(Arrays.asList(more));
        return run(a.toArray(String[]::new));
    }

    static ModelConfig parse(Path pbtxt) throws Exception {
        ModelConfig.Builder b = ModelConfig.newBuilder();
        TextFormat.merge(Files.readString(pbtxt), b);
        return b.build();
    }

    /** The graph's inputs or outputs as ONNX Runtime reads them: name → shape (-1 symbolic). */
    private static Map<String, long[]> shapes(Map<String, NodeInfo> info) {
        Map<String, long[]> m = new LinkedHashMap<>();
        info.forEach((k, v) -> m.put(k, ((TensorInfo) v.getInfo()).getShape()));
        return m;
    }

    /** config.pbtxt's dims are the graph's after its batch dimension, which is variable (-1). */
    private static void sameAsGraph(ModelConfig c, Path onnx) throws Exception {
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            Map<String, long[]> in = shapes(s.getInputInfo());
            Map<String, long[]> out = shapes(s.getOutputInfo());
            assertEquals(c.getInputList().stream().map(ModelInput::getName).toList(), List.copyOf(in.keySet()));
            assertEquals(c.getOutputList().stream().map(ModelOutput::getName).toList(), List.copyOf(out.keySet()));
            for (ModelInput i : c.getInputList()) {
                long[] g = in.get(i.getName());
                assertEquals(-1, g[0], "the batch dimension must be variable for max_batch_size > 0");
                assertEquals(Arrays.toString(Arrays.copyOfRange(g, 1, g.length)), i.getDimsList().toString());
                assertEquals(DataType.TYPE_FP32, i.getDataType());
                assertEquals(OnnxJavaType.FLOAT, ((TensorInfo) s.getInputInfo().get(i.getName())
                        .getInfo()).type);
            }
            for (ModelOutput o : c.getOutputList()) {
                long[] g = out.get(o.getName());
                assertEquals(-1, g[0]);
                assertEquals(Arrays.toString(Arrays.copyOfRange(g, 1, g.length)), o.getDimsList().toString());
                assertEquals(DataType.TYPE_FP32, o.getDataType());
            }
        }
    }

    @Test
    void fixedSizeRepositoryParsesBackAndMatchesTheGraph() throws Exception {
        Path repo = tmp.resolve("repo");
        Run r = export(repo, "--name", "depth_v2-tiny.1", "--max-batch", "4");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("wrote " + repo.resolve("depth_v2-tiny.1")), r.out());
        Path model = repo.resolve("depth_v2-tiny.1");
        assertEquals(List.of("1", "config.pbtxt"), List.of(OnnxCommandTestFiles.names(model)));
        assertEquals(List.of("model.onnx", "model.onnx.json"), List.of(OnnxCommandTestFiles.names(model.resolve("1"))));
        assertEquals(List.of("depth_v2-tiny.1"), List.of(OnnxCommandTestFiles.names(repo))); // no staging left

        ModelConfig c = parse(model.resolve("config.pbtxt"));
        assertEquals("depth_v2-tiny.1", c.getName());
        assertEquals("onnxruntime_onnx", c.getPlatform());
        assertEquals(4, c.getMaxBatchSize());
        assertEquals("model.onnx", c.getDefaultModelFilename());
        assertEquals(1, c.getInputCount());
        assertEquals("image", c.getInput(0).getName());
        assertEquals(ModelInput.Format.FORMAT_NCHW, c.getInput(0).getFormat());
        assertEquals(List.of(3L, 70L, 70L), c.getInput(0).getDimsList());
        assertEquals(1, c.getOutputCount());
        assertEquals("depth", c.getOutput(0).getName());
        assertEquals(List.of(70L, 70L), c.getOutput(0).getDimsList());
        assertTrue(c.hasDynamicBatching());
        assertEquals(5000, c.getDynamicBatching().getMaxQueueDelayMicroseconds());
        assertEquals(1, c.getInstanceGroupCount());
        assertEquals(1, c.getInstanceGroup(0).getCount());
        assertEquals(ModelInstanceGroup.Kind.KIND_AUTO, c.getInstanceGroup(0).getKind());
        // the text itself: Triton's field names, the enum names Triton's docs use
        String text = Files.readString(model.resolve("config.pbtxt"));
        assertTrue(text.contains("platform: \"onnxruntime_onnx\"") && text.contains("data_type: TYPE_FP32")
                && text.contains("max_batch_size: 4") && text.contains("kind: KIND_AUTO")
                && text.contains("dynamic_batching {"), text);
        sameAsGraph(c, model.resolve("1/model.onnx"));

        // the certificate beside model.onnx, as --format onnx writes it: passed, at batch 1 and 2
        JsonNode cert = new ObjectMapper().readTree(Files.readString(model.resolve("1/model.onnx.json")));
        assertEquals("model.onnx", cert.get("file").asText());
        assertTrue(cert.get("passed").asBoolean(), cert.toString());
        List<Integer> batches = new ArrayList<>();
        cert.get("sizes_checked").forEach(n -> batches.add(n.get("batch").asInt()));
        assertEquals(List.of(1, 2), batches);
        // and the file is the export's: same metadata as --format onnx writes (base weights' SHA-256)
        try (OnnxRuntimeModel m = OnnxRuntimeModel.open(model.resolve("1/model.onnx"), 1)) {
            assertEquals(Checksums.sha256(Path.of(WEIGHTS)), m.metadata().get("base_sha256"));
            float[] two = m.run(new float[2 * 3 * 70 * 70], 2, 70, 70); // the batch Triton forms
            assertEquals(2 * 70 * 70, two.length);
        }
    }

    @Test
    void dynamicRepositoryHasVariableDims() throws Exception {
        Path repo = tmp.resolve("repo");
        Run r = export(repo, "--dynamic");
        assertEquals(0, r.rc(), r.err());
        ModelConfig c = parse(repo.resolve("depth/config.pbtxt"));
        assertEquals("depth", c.getName());
        assertEquals(8, c.getMaxBatchSize());
        assertEquals(List.of(3L, -1L, -1L), c.getInput(0).getDimsList());
        assertEquals(List.of(-1L, -1L), c.getOutput(0).getDimsList());
        sameAsGraph(c, repo.resolve("depth/1/model.onnx"));
        JsonNode cert = new ObjectMapper().readTree(Files.readString(repo.resolve("depth/1/model.onnx.json")));
        assertTrue(cert.get("passed").asBoolean() && cert.get("dynamic").asBoolean(), cert.toString());
        // a second model beside the first: the repository is shared, the first is left alone
        byte[] first = Files.readAllBytes(repo.resolve("depth/config.pbtxt"));
        assertEquals(0, export(repo, "--name", "depth2").rc());
        assertEquals(List.of("depth", "depth2"), List.of(OnnxCommandTestFiles.names(repo)));
        assertTrue(Arrays.equals(first, Files.readAllBytes(repo.resolve("depth/config.pbtxt"))));
    }

    @Test
    void depthAnything3HasTheSkyOutput() throws Exception {
        Path repo = tmp.resolve("repo");
        Run r = run("export", "--format", "triton", "--weights", Fixtures.shared("da3-tiny-mono").toString(),
                "--input-size", "56x84", "--output", repo.toString(), "--max-batch", "2");
        assertEquals(0, r.rc(), r.err());
        ModelConfig c = parse(repo.resolve("depth/config.pbtxt"));
        assertEquals(List.of("depth", "sky"), c.getOutputList().stream().map(ModelOutput::getName).toList());
        assertEquals(List.of(56L, 84L), c.getOutput(1).getDimsList());
        sameAsGraph(c, repo.resolve("depth/1/model.onnx"));
        JsonNode cert = new ObjectMapper().readTree(Files.readString(repo.resolve("depth/1/model.onnx.json")));
        assertTrue(cert.get("passed").asBoolean(), cert.toString());
        assertEquals(4, cert.get("sizes_checked").size()); // depth and sky, at batch 1 and 2
    }

    /**
     * A config written by hand the way Triton's model configuration guide writes them (list syntax,
     * platform or backend, image input with a format, several instance groups, preferred batch
     * sizes): our schema's names and numbers take it, and an unknown field is refused.
     */
    @Test
    void aHandWrittenTritonConfigParses() throws Exception {
        String doc = """
                name: "densenet_onnx"
                platform: "onnxruntime_onnx"
                max_batch_size: 8
                input [
                  {
                    name: "data_0"
                    data_type: TYPE_FP32
                    format: FORMAT_NCHW
                    dims: [ 3, 224, 224 ]
                  }
                ]
                output [
                  {
                    name: "fc6_1"
                    data_type: TYPE_FP32
                    dims: [ 1000 ]
                  },
                  {
                    name: "mask"
                    data_type: TYPE_UINT8
                    dims: [ -1, -1 ]
                  }
                ]
                instance_group [
                  {
                    count: 1
                    kind: KIND_GPU
                    gpus: [ 0 ]
                  },
                  {
                    count: 2
                    kind: KIND_CPU
                  }
                ]
                dynamic_batching {
                  preferred_batch_size: [ 4, 8 ]
                  max_queue_delay_microseconds: 100
                }
                """;
        ModelConfig.Builder b = ModelConfig.newBuilder();
        TextFormat.merge(doc, b);
        ModelConfig c = b.build();
        assertEquals("densenet_onnx", c.getName());
        assertEquals(8, c.getMaxBatchSize());
        assertEquals(List.of(3L, 224L, 224L), c.getInput(0).getDimsList());
        assertEquals(ModelInput.Format.FORMAT_NCHW, c.getInput(0).getFormat());
        assertEquals(List.of(1000L), c.getOutput(0).getDimsList());
        assertEquals(DataType.TYPE_UINT8, c.getOutput(1).getDataType());
        assertEquals(List.of(-1L, -1L), c.getOutput(1).getDimsList());
        assertEquals(ModelInstanceGroup.Kind.KIND_GPU, c.getInstanceGroup(0).getKind());
        assertEquals(List.of(0), c.getInstanceGroup(0).getGpusList());
        assertEquals(2, c.getInstanceGroup(1).getCount());
        assertEquals(ModelInstanceGroup.Kind.KIND_CPU, c.getInstanceGroup(1).getKind());
        assertEquals(List.of(4, 8), c.getDynamicBatching().getPreferredBatchSizeList());
        assertEquals(100, c.getDynamicBatching().getMaxQueueDelayMicroseconds());

        // the newer spelling with backend instead of platform
        b = ModelConfig.newBuilder();
        TextFormat.merge("backend: \"onnxruntime\"\nmax_batch_size: 0\n", b);
        assertEquals("onnxruntime", b.getBackend());

        // the wire numbers are Triton's: a message encoded with them decodes field by field
        byte[] wire = c.toByteArray();
        assertEquals(c, ModelConfig.parseFrom(wire));
        // ModelConfig.name is field 1 (tag 0x0a), platform field 2 (0x12), max_batch_size field 4 (0x20)
        assertEquals(0x0a, wire[0]);

        assertThrows(TextFormat.ParseException.class, () -> TextFormat.merge("max_batch_sise: 8", ModelConfig.newBuilder()));
    }

    @Test
    void refusalsAreOneLineAndWriteNothing() throws Exception {
        Path repo = tmp.resolve("repo");
        for (String[] bad : new String[][] {
                {"--name", "../escape"}, {"--name", "a b"}, {"--name", ".hidden"}, {"--name", ""},
                {"--name", "x".repeat(65)}, {"--name", "depth/1"}, {"--max-batch", "0"}, {"--max-batch", "-3"},
                {"--max-batch", "5000"}}) {
            Run r = export(repo, bad);
            assertEquals(2, r.rc(), Arrays.toString(bad) + ": " + r.err());
            assertTrue(r.err().startsWith("error: " + bad[0]), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertFalse(Files.exists(repo));
        // --name and --max-batch belong to triton
        Run r = run("export", "--format", "onnx", "--weights", WEIGHTS, "--model-config", YAML, "--input-size", "70",
                "--name", "x", "--output", tmp.resolve("m.onnx").toString());
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith("error: --name: only with --format triton"), r.err());
        // --output a file, or inside a missing folder
        Path file = tmp.resolve("file");
        Files.writeString(file, "x");
        r = export(file);
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("exists and is not a folder"), r.err());
        r = export(tmp.resolve("missing/repo"));
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("does not exist"), r.err());

        // a model folder that exists already is left as it is
        Files.createDirectories(repo.resolve("depth"));
        Files.writeString(repo.resolve("depth/config.pbtxt"), "name: \"depth\"\n");
        r = export(repo);
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith("error: " + repo.resolve("depth") + ": already exists in the model repository"),
                r.err());
        assertEquals("name: \"depth\"\n", Files.readString(repo.resolve("depth/config.pbtxt")));
        assertEquals(List.of("depth"), List.of(OnnxCommandTestFiles.names(repo)));

        // a failure in the middle of the export (the certificate's image is not an image): no model folder,
        // no staging folder, and a repository folder the export created is gone again
        Path junk = tmp.resolve("junk.png");
        Files.writeString(junk, "not an image");
        Path fresh = tmp.resolve("fresh");
        r = export(fresh, "--parity-image", junk.toString());
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(fresh), "a failed export leaves no repository behind");
        r = export(repo, "--name", "other", "--parity-image", junk.toString());
        assertEquals(2, r.rc(), r.err());
        assertEquals(List.of("depth"), List.of(OnnxCommandTestFiles.names(repo)), "no staging folder left");
    }

    @Test
    void settingsAreCheckedByTheLibraryToo() {
        assertThrows(LoraException.class, () -> new TritonRepository.Settings("ok", 0));
        assertThrows(LoraException.class, () -> new TritonRepository.Settings("-x", 1));
        assertEquals("depth", new TritonRepository.Settings("depth", 1).name());
    }
}
