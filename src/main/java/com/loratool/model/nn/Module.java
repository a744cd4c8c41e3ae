package com.loratool.model.nn;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of the model tree, like {@code torch.nn.Module}: ordered named children and parameters.
 * Full dotted names ({@code pretrained.blocks.3.attn.qkv.weight}) equal the official state_dict
 * keys. Parameters live in the manager given at construction (the model's manager).
 */
public abstract class Module {
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private final LinkedHashMap<String, Parameter> parameters = new LinkedHashMap<>();
    private boolean training;

    /** Registers a child under a local name ("qkv", "0", ...) and returns it. */
    protected <M extends Module> M addChild(String name, M child) {
        if (children.put(name, child) != null) {
            throw new IllegalStateException("duplicate child " + name);
        }
        return child;
    }

    /** Creates a zero-filled float32 parameter (filled later by loading a checkpoint). */
    protected Parameter addParameter(NDManager manager, String name, long... shape) {
        Parameter p = new Parameter(name, manager.zeros(new Shape(shape), DataType.FLOAT32));
        if (parameters.put(name, p) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        return p;
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** All parameters of this subtree, keyed by full dotted name (official state_dict order). */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collectParameters(prefix + e.getKey() + ".", out);
        }
    }

    /** All modules below this one (not this one), keyed by full dotted name, depth first. */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        for (Map.Entry<String, Module> e : children.entrySet()) {
            String name = prefix + e.getKey();
            out.put(name, e.getValue());
            e.getValue().collectModules(name + ".", out);
        }
    }

    public void setTraining(boolean training) {
        this.training = training;
        for (Module m : children.values()) {
            m.setTraining(training);
        }
    }

    public boolean isTraining() {
        return training;
    }

    /** Number of scalar parameters in this subtree. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) {
            n += p.shape().size();
        }
        return n;
    }
}
