package com.loratool.model.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@code torch.nn.ModuleList} / {@code Sequential} naming: children "0", "1", ... */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    /** Appends at the next index. */
    public M add(M m) {
        addChild(Integer.toString(items.size()), m);
        items.add(m);
        return m;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }
}
