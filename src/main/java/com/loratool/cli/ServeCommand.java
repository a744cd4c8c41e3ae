package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.data.CameraIntrinsics;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.io.InputFiles;
import com.loratool.io.Interrupts;
import com.loratool.model.Compute;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import com.loratool.serve.InferenceServer;
import com.loratool.serve.ServeSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora serve}: one model over HTTP, on the Open Inference Protocol (KServe v2 REST). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve one model over HTTP on the Open Inference Protocol (KServe v2 REST, as Triton, KServe, "
                + "Seldon MLServer and OpenVINO Model Server speak it), with the binary tensor data extension.",
            "Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready, "
                + "POST /v2/models/NAME/infer (also under /v2/models/NAME/versions/1/), GET /metrics (Prometheus).",
            "Inputs: 'image' FP32 N x 3 x H x W (preprocessed: RGB / 255, ImageNet mean/std; H, W multiples of 14; "
                + "depth N x H x W at that size) or 'image_bytes' BYTES [N] (encoded PNG/JPEG, base64 strings in "
                + "JSON; preprocessed as lora predict does; depth at the images' size, which must be one per request).",
            "Output 'depth' FP32 N x H x W: metres for metric models (Depth Anything V2 metric; da3metric with "
                + "--focal or --intrinsics), relative depth for da3mono, relative disparity for V2 (the model "
                + "metadata's depth_unit); as binary data when the request asks (binary_data).",
            "Depth Anything 3: --process-res, --no-sky-fill, --focal as lora predict; 'image' tensors are served for "
                + "da3mono (depth at the tensor's size, sky filled per image), not for da3metric (its focal is of "
                + "the original image: send 'image_bytes').",
            "Listens on 127.0.0.1 unless --host says otherwise; with --token-file every request but the health "
                + "checks needs 'Authorization: Bearer <token>'. SIGTERM or Ctrl-C: stop accepting, finish the "
                + "requests in flight (up to --drain-ms), exit 0."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--onnx", paramLabel = "FILE",
            description = "An exported model (lora export --format onnx), run in ONNX Runtime.")
    Path onnx;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to listen on; 0.0.0.0 for every interface (use --token-file, and TLS in front: "
                    + "README, Serving). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (0: any free one, printed). Default: "
            + "${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--name", defaultValue = "depth", description = "The model's name in the URLs. Default: "
            + "${DEFAULT-VALUE}.")
    String name;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N",
            description = "Most images in one forward pass (and in one request). Default: ${DEFAULT-VALUE}.")
    int maxBatch;

    @Option(names = "--max-delay-ms", defaultValue = "5", paramLabel = "MS",
            description = "How long a request waits for others to join its batch. Default: ${DEFAULT-VALUE}.")
    int maxDelayMs;

    @Option(names = "--queue", defaultValue = "32", paramLabel = "N",
            description = "Most requests waiting for the model; beyond it (and --max-batch more being read): 503 with "
                    + "Retry-After. Bounds memory: about (N + max-batch) x --max-body-mb. Default: ${DEFAULT-VALUE}.")
    int queue;

    @Option(names = "--timeout-ms", defaultValue = "30000", paramLabel = "MS",
            description = "Each request's time limit, from arrival to answer; past it: 408 while its body is still "
                    + "arriving, else 503. Default: ${DEFAULT-VALUE}.")
    int timeoutMs;

    @Option(names = "--max-body-mb", defaultValue = "32", paramLabel = "MB",
            description = "Largest request body; larger: 413. Default: ${DEFAULT-VALUE}.")
    int maxBodyMb;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "A file holding the bearer token (one line) every request but the health checks must carry.")
    Path tokenFile;

    @Option(names = "--drain-ms", defaultValue = "10000", paramLabel = "MS",
            description = "On SIGTERM, how long the requests in flight may take to finish. Default: ${DEFAULT-VALUE}.")
    int drainMs;

    @Option(names = "--intrinsics", paramLabel = "K.json|fx,fy,cx,cy",
            description = "Depth Anything 3 metric: the camera (a JSON as lora data intrinsics writes, or fx,fy,cx,cy "
                    + "in pixels of the images' grid), for the focal; as lora predict takes it. Or give --focal PX.")
    String intrinsics;

    @Mixin
    Da3Options da3;

    @Mixin
    ModelOptions model;

    @Mixin
    ModelOptions.InputSize inputSize;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (onnx != null && (model.given() || model.modelConfig() != null)) {
            throw new LoraException("--onnx: the file is the whole model; drop --weights/--checkpoint/--model-config");
        }
        ModelSource source = onnx != null ? null : model.source();
        ServeSettings settings = new ServeSettings(name, host, port, maxBatch, maxDelayMs, queue, timeoutMs,
                (long) maxBodyMb * 1024 * 1024, token(), drainMs);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        DepthPredictor.loadOpenCv();
        da3.check();
        DepthEstimator estimator;
        if (onnx != null) {
            OnnxRuntimeModel graph = OnnxRuntimeModel.open(onnx, common.threads);
            DepthEstimator.Da3Options options;
            try {
                options = da3Options(graph.family(), true);
            } catch (RuntimeException e) {
                graph.close();
                throw e;
            }
            estimator = DepthEstimator.fromOnnx(onnx, graph, inputSize.value(), options);
        } else {
            Compute.setThreads(common.threads);
            ResolvedModel resolved = ModelResolver.resolve(source,
                    ModelResolver.Options.inputSize(inputSize.value()).runs("serve", ModelResolver.Da3.ALL));
            estimator = DepthEstimator.of(resolved, common.device.name(), da3Options(resolved.architecture().family(),
                    false));
        }
        try (Interrupts.Scope cooperative = Interrupts.cooperate()) { // SIGTERM: drain, then exit 0
            InferenceServer server = InferenceServer.start(settings, estimator);
            err.printf("loaded %s in %.1f s%n", server.describe(), (System.nanoTime() - t0) / 1e9);
            err.flush();
            out.println("serving '" + name + "' at " + server.url() + "/v2/models/" + name + " (ready; SIGTERM or "
                    + "Ctrl-C to stop)");
            out.flush();
            while (!Interrupts.requested()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            err.println("stopping: no new requests; finishing " + server.inFlight() + " in flight (up to " + drainMs
                    + " ms)");
            err.flush();
            int left = server.drain();
            out.println(left == 0 ? "stopped: every request answered" : "stopped: " + left
                    + " request(s) cut off at the --drain-ms deadline");
            out.flush();
        }
        return 0;
    }

    /**
     * --process-res, --no-sky-fill, --focal and --intrinsics, as lora predict reads them: a Depth
     * Anything 3 model's (da3metric needs --focal or --intrinsics; da3mono takes neither), refused
     * for a V2 one.
     */
    private DepthEstimator.Da3Options da3Options(ModelConfig.Family family, boolean graph) {
        if (!family.isDa3() && intrinsics != null) {
            throw new LoraException("--intrinsics is the focal of a Depth Anything 3 metric model (da3metric); this is "
                    + "a Depth Anything V2 " + (graph ? "graph" : "model"));
        }
        if (intrinsics != null && da3.focal != null) {
            throw new LoraException("--focal and --intrinsics: give one (the focal of a da3metric model)");
        }
        DepthEstimator.Da3Options o = da3.of(family, inputSize.value(), graph,
                () -> intrinsics == null ? null : CameraIntrinsics.parseOrRead(intrinsics));
        if (family.isDa3() && family != ModelConfig.Family.DA3METRIC && intrinsics != null) {
            throw new LoraException("--intrinsics (as a focal) is for Depth Anything 3 metric models (da3metric); "
                    + family.yamlName() + " predicts relative depth");
        }
        return o;
    }

    /** The bearer token from --token-file (its first line, trimmed), or null. */
    private String token() {
        if (tokenFile == null) {
            return null;
        }
        InputFiles.regularFile(tokenFile);
        try {
            String t = Files.readString(tokenFile, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
            if (t.isEmpty()) {
                throw LoraException.file(tokenFile, "the token file is empty");
            }
            return t;
        } catch (IOException e) {
            throw LoraException.file(tokenFile, "cannot read the token (" + e.getMessage() + ")");
        }
    }
}
