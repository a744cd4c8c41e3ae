package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.ConvTranspose2d;
import com.loratool.model.nn.Identity;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.ModuleList;
import com.loratool.model.nn.Resampler;

/**
 * The DPT head of the Depth Anything family, without the class-token readout: V2's
 * {@code depth_head}, Depth Anything 3's {@code model.head} (exp activation, {@code refinenet4}
 * without {@code resConfUnit1}, and the sky head {@code scratch.sky_output_conv2} on the same
 * input as {@code output_conv2}, ending in ReLU).
 */
public final class DptHead extends Module {
    private final ModuleList<Conv2d> projects;
    private final ModuleList<Module> resizeLayers;
    private final Scratch scratch;
    private final Resampler resampler;
    private final ModelConfig.HeadActivation lastActivation;

    DptHead(NDManager manager, ModelConfig cfg, Resampler resampler) {
        this.resampler = resampler;
        this.lastActivation = cfg.headActivation();
        int[] oc = cfg.outChannels();
        projects = addChild("projects", new ModuleList<>());
        for (int c : oc) {
            projects.add(new Conv2d(manager, cfg.embedDim(), c, 1, 1, 0, true));
        }
        resizeLayers = addChild("resize_layers", new ModuleList<>());
        resizeLayers.add(new ConvTranspose2d(manager, oc[0], oc[0], 4));
        resizeLayers.add(new ConvTranspose2d(manager, oc[1], oc[1], 2));
        resizeLayers.add(new Identity());
        resizeLayers.add(new Conv2d(manager, oc[3], oc[3], 3, 2, 1, true));
        scratch = addChild("scratch", new Scratch(manager, cfg.features(), oc, resampler, cfg.isDa3()));
    }

    /**
     * Four token arrays (B, ph*pw, D) → (B,1,14ph,14pw): {@code output_conv2} ends in a ReLU
     * (relative) or a Sigmoid (metric; values in 0..1, before the model's x max_depth), or for
     * Depth Anything 3 in exp (depth).
     */
    NDArray forward(NDArray[] feats, int ph, int pw) {
        return forward(feats, ph, pw, false)[0];
    }

    /**
     * {@link #forward}'s depth and, when {@code withSky} and for Depth Anything 3, the sky head's ReLU
     * output (B,1,14ph,14pw) as the second element (null otherwise: training and depth-only inference
     * skip the sky head).
     */
    NDArray[] forward(NDArray[] feats, int ph, int pw, boolean withSky) {
        NDArray[] layers = new NDArray[4];
        for (int i = 0; i < 4; i++) {
            NDArray x = feats[i];
            long b = x.getShape().get(0);
            long d = x.getShape().get(2);
            x = x.transpose(0, 2, 1).reshape(b, d, ph, pw);
            x = projects.get(i).forward(x);
            Module r = resizeLayers.get(i);
            if (r instanceof ConvTranspose2d t) {
                x = t.forward(x);
            } else if (r instanceof Conv2d c) {
                x = c.forward(x);
            }
            layers[i] = scratch.layerRn[i].forward(x);
        }
        NDArray p4 = scratch.refine[3].forward(layers[3], null, spatial(layers[2]));
        NDArray p3 = scratch.refine[2].forward(p4, layers[2], spatial(layers[1]));
        NDArray p2 = scratch.refine[1].forward(p3, layers[1], spatial(layers[0]));
        NDArray p1 = scratch.refine[0].forward(p2, layers[0], null);
        NDArray out = scratch.outputConv1.forward(p1);
        NDArray feat = resampler.bilinearAlignCorners(out, ph * 14, pw * 14);
        out = Activation.relu(scratch.outputConv2a.forward(feat));
        out = scratch.outputConv2b.forward(out);
        NDArray depth = switch (lastActivation) {
            case SIGMOID -> Activation.sigmoid(out);
            case EXP -> out.exp();
            case RELU -> Activation.relu(out);
        };
        NDArray sky = null;
        if (withSky && scratch.skyConv2a != null) {
            sky = Activation.relu(scratch.skyConv2a.forward(feat));
            sky = Activation.relu(scratch.skyConv2b.forward(sky));
        }
        return new NDArray[] {depth, sky};
    }

    private static long[] spatial(NDArray x) {
        return new long[] {x.getShape().get(2), x.getShape().get(3)};
    }

    /** {@code depth_head.scratch}. */
    public static final class Scratch extends Module {
        final Conv2d[] layerRn = new Conv2d[4];
        final FeatureFusionBlock[] refine = new FeatureFusionBlock[4];
        final Conv2d outputConv1;
        final Conv2d outputConv2a;
        final Conv2d outputConv2b;
        final Conv2d skyConv2a;
        final Conv2d skyConv2b;

        Scratch(NDManager manager, int features, int[] oc, Resampler resampler, boolean da3) {
            for (int i = 0; i < 4; i++) {
                layerRn[i] = addChild("layer" + (i + 1) + "_rn", new Conv2d(manager, oc[i], features, 3, 1, 1, false));
            }
            for (int i = 0; i < 4; i++) {
                refine[i] = addChild("refinenet" + (i + 1), new FeatureFusionBlock(manager, features, resampler,
                        !(da3 && i == 3)));
            }
            outputConv1 = addChild("output_conv1", new Conv2d(manager, features, features / 2, 3, 1, 1, true));
            OutputConv2 oc2 = addChild("output_conv2", new OutputConv2());
            outputConv2a = oc2.add("0", new Conv2d(manager, features / 2, 32, 3, 1, 1, true));
            outputConv2b = oc2.add("2", new Conv2d(manager, 32, 1, 1, 1, 0, true));
            if (da3) {
                OutputConv2 sky = addChild("sky_output_conv2", new OutputConv2());
                skyConv2a = sky.add("0", new Conv2d(manager, features / 2, 32, 3, 1, 1, true));
                skyConv2b = sky.add("2", new Conv2d(manager, 32, 1, 1, 1, 0, true));
            } else {
                skyConv2a = null;
                skyConv2b = null;
            }
        }
    }

    /**
     * {@code scratch.output_conv2}: a Sequential whose activations hold no parameters (relative:
     * Conv, ReLU, Conv, ReLU, Identity; metric: Conv, ReLU, Conv, Sigmoid; Depth Anything 3: Conv,
     * ReLU, Conv, then exp outside it, and {@code sky_output_conv2}: Conv, ReLU, Conv, ReLU).
     */
    public static final class OutputConv2 extends Module {
        Conv2d add(String index, Conv2d conv) {
            return addChild(index, conv);
        }
    }
}
