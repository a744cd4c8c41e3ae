package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The "continue with" lines of train and sweep paste back into a shell: values with spaces or quotes are quoted. */
class ShellWordsTest {
    @Test
    void plainWordsStayAndOthersAreSingleQuoted() {
        assertEquals("lora train --config configs/smoke.yaml --set 'train.lr_multipliers={depth_head: 10}' --set "
                        + "'data.root=it'\\''s' --resume",
                ShellWords.line(List.of("lora", "train", "--config", "configs/smoke.yaml", "--set",
                        "train.lr_multipliers={depth_head: 10}", "--set", "data.root=it's", "--resume")));
        assertEquals("''", ShellWords.quoted(""));
    }
}
