package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** A named trainable tensor of a {@link Module}; lives in the model's manager. */
public final class Parameter {
    private final String name;
    private NDArray array;

    Parameter(String name, NDArray array) {
        this.name = name;
        this.array = array;
    }

    /** The local name within its module ("weight", "bias", "gamma", ...). */
    public String name() {
        return name;
    }

    public NDArray array() {
        return array;
    }

    public Shape shape() {
        return array.getShape();
    }

    /**
     * Replaces the value (same shape required). The new array is attached to the old one's
     * manager and the old array is closed; the gradient flag carries over.
     */
    public void set(NDArray value) {
        if (!value.getShape().equals(array.getShape())) {
            throw new IllegalArgumentException(
                    name + ": shape " + value.getShape() + " does not match " + array.getShape());
        }
        if (value == array) {
            return;
        }
        boolean grad = array.hasGradient();
        value.attach(array.getManager());
        array.close();
        array = value;
        if (grad) {
            array.setRequiresGradient(true);
        }
    }

    public void setRequiresGradient(boolean requires) {
        array.setRequiresGradient(requires);
    }

    public boolean requiresGradient() {
        return array.hasGradient();
    }
}
