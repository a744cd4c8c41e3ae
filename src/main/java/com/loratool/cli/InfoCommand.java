package com.loratool.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.ConfigLoader;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.train.TrainRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora info}: architecture, parameter counts and the layers LoRA can target. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a checkpoint's architecture, parameter counts and its linear/conv layers (LoRA targets).")
public final class InfoCommand implements Callable<Integer> {

    // LoRA summary of a training config (train helper): see TrainCommand / TrainRun.summary
    @Option(names = "--config", paramLabel = "FILE",
            description = "Instead of --weights: a training config; prints the LoRA summary (trainable params, adapted layers).")
    Path trainConfig;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "With --config: override a config key (repeatable).")
    List<String> sets = new ArrayList<>();

    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (trainConfig != null) {
            new TrainRun(ConfigLoader.load(trainConfig, sets), null).summary(out);
            return 0;
        }
        if (!model.given()) {
            throw new LoraException("lora info: give --weights FILE, --checkpoint DIR or --config FILE (a training config)");
        }
        try (NDManager base = NDManager.newBaseManager(Device.cpu())) {
            ResolvedModel resolved = ModelResolver.resolve(model.source(), ModelResolver.Options.DEFAULT.runs("info", ModelResolver.Da3.ALL));
            DepthAnythingV2 net = resolved.instantiate(base);
            out.println("weights:       " + resolved.provenance().description()
                    + resolved.adapters().map(a -> " + adapters " + a.dir()).orElse(""));
            out.println("architecture:  " + net.config().describe());
            out.println("head:          " + net.config().describeHead());
            boolean da3 = net.config().isDa3();
            out.printf("parameters:    %,d total, %,d encoder (%s), %,d head (%s)%n", net.parameterCount(),
                    net.pretrained().parameterCount(), da3 ? "model.backbone.pretrained" : "pretrained",
                    net.depthHead().parameterCount(), da3 ? "model.head" : "depth_head");
            out.println("layers (LoRA targets; * = every index):");
            LinkedHashMap<String, String[]> groups = layerGroups(net);
            for (Map.Entry<String, String[]> e : groups.entrySet()) {
                out.printf("  %-52s %4s  %s%n", e.getKey(), "x" + e.getValue()[0], e.getValue()[1]);
            }
            if (da3) {
                // the official DepthAnything3 module names: what a PEFT adapter and --set lora.targets name
                String example = groups.values().stream().map(g -> g[2]).filter(n -> n.endsWith(".attn.qkv"))
                        .findFirst().orElse(groups.values().iterator().next()[2]);
                out.println("target names are the official Depth Anything 3 module names, e.g. " + example);
            }
        }
        out.flush();
        return 0;
    }

    /** Linear/Conv2d modules grouped by name pattern: pattern → {count, description}. */
    static LinkedHashMap<String, String[]> layerGroups(Module model) {
        LinkedHashMap<String, String[]> groups = new LinkedHashMap<>();
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            String desc;
            if (e.getValue() instanceof Linear l) {
                desc = "Linear " + l.inFeatures() + "->" + l.outFeatures();
            } else if (e.getValue() instanceof Conv2d c) {
                desc = "Conv2d " + c.kernelSize() + "x" + c.kernelSize() + (c.stride() > 1 ? "/s" + c.stride() : "") + " "
                        + c.inChannels() + "->" + c.outChannels();
            } else {
                continue;
            }
            String pattern = e.getKey()
                    .replaceAll("\\.blocks\\.\\d+\\.", ".blocks.*.")
                    .replaceAll("refinenet\\d", "refinenet*")
                    .replaceAll("^depth_head\\.projects\\.\\d+", "depth_head.projects.*")
                    .replaceAll("^model\\.head\\.projects\\.\\d+", "model.head.projects.*");
            String[] g = groups.get(pattern);
            if (g == null) {
                groups.put(pattern, new String[] {"1", desc, e.getKey()});
            } else {
                g[0] = Integer.toString(Integer.parseInt(g[0]) + 1);
                if (!g[1].equals(desc)) {
                    g[1] = desc.substring(0, desc.lastIndexOf(' ')) + " (widths vary)";
                }
            }
        }
        return groups;
    }
}
