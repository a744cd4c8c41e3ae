package com.loratool.deploy;

import com.google.protobuf.ByteString;
import com.loratool.deploy.proto.Onnx.AttributeProto;
import com.loratool.deploy.proto.Onnx.GraphProto;
import com.loratool.deploy.proto.Onnx.NodeProto;
import com.loratool.deploy.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

/**
 * A small builder over the generated ONNX protobuf classes: nodes with fresh output names,
 * initializers (float32, float16 or int64), and the attribute kinds the exporter needs. The
 * graph's float type ({@code half}) decides how float initializers are stored.
 */
final class OnnxGraph {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;

    final GraphProto.Builder graph = GraphProto.newBuilder();
    final boolean half;
    private int counter;
    private final Set<String> names = new HashSet<>();

    OnnxGraph(String name, boolean half) {
        graph.setName(name);
        this.half = half;
    }

    /** The activation element type: float16 for an fp16 graph, else float32. */
    int actType() {
        return half ? FLOAT16 : FLOAT;
    }

    String fresh(String hint) {
        return hint + "_" + (counter++);
    }

    /** One node with one output; attributes as (name, value) pairs (Long, Double, String, long[], float[]). */
    String op(String type, Object[] attrs, String... inputs) {
        String out = fresh(type);
        node(type, attrs, new String[] {out}, inputs);
        return out;
    }

    String op(String type, String... inputs) {
        return op(type, new Object[0], inputs);
    }

    void node(String type, Object[] attrs, String[] outputs, String... inputs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(outputs[0]);
        for (String i : inputs) {
            n.addInput(i);
        }
        for (String o : outputs) {
            n.addOutput(o);
        }
        for (int i = 0; i < attrs.length; i += 2) {
            n.addAttribute(attribute((String) attrs[i], attrs[i + 1]));
        }
        graph.addNode(n);
    }

    static Object[] attrs(Object... kv) {
        return kv;
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Long l) {
            a.setType(AttributeProto.AttributeType.INT).setI(l);
        } else if (v instanceof Integer i) {
            a.setType(AttributeProto.AttributeType.INT).setI(i);
        } else if (v instanceof Double d) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(d.floatValue());
        } else if (v instanceof Float f) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else if (v instanceof long[] ls) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long l : ls) {
                a.addInts(l);
            }
        } else {
            throw new IllegalArgumentException("attribute " + name + ": " + v);
        }
        return a.build();
    }

    /** A float initializer in the graph's float type (fp16 rounds to nearest even). */
    String weight(String name, long[] shape, float[] data) {
        return floats(name, shape, data, half);
    }

    /** A float32 initializer whatever the graph's type (LayerNorm weights, fp32 islands). */
    String weight32(String name, long[] shape, float[] data) {
        return floats(name, shape, data, false);
    }

    private String floats(String name, long[] shape, float[] data, boolean asHalf) {
        if (!names.add(name)) {
            return name; // a shared weight (pretrained.norm for the four intermediate layers)
        }
        ByteBuffer b = ByteBuffer.allocate(data.length * (asHalf ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            if (asHalf) {
                b.putShort(Half.fromFloat(f));
            } else {
                b.putFloat(f);
            }
        }
        b.flip();
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(asHalf ? FLOAT16 : FLOAT)
                .setRawData(ByteString.copyFrom(b));
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    /** A scalar in the graph's float type. */
    String scalar(double v) {
        return weight(fresh("c"), new long[0], new float[] {(float) v});
    }

    /** An int64 constant (1-D, or a scalar when {@code scalar}). */
    String ints(boolean scalar, long... v) {
        String name = fresh("i");
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64);
        if (!scalar) {
            t.addDims(v.length);
        }
        for (long x : v) {
            t.addInt64Data(x);
        }
        graph.addInitializer(t);
        return name;
    }

    String ints(long... v) {
        return ints(false, v);
    }
}
