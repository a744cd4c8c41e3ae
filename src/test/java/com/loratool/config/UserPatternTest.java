package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * User patterns cannot hang the program (issue 21): {@code re:} targets and rank/alpha_pattern keys
 * are matched in linear time (RE2/J). {@code ^(\w+\.?){1,30}!$} on a head module name backtracks
 * for minutes in java.util.regex; here it must answer well within the (generous) timeout.
 */
class UserPatternTest {
    private static final String HANG = "^(\\w+\\.?){1,30}!$";
    private static final String NAME = "depth_head.scratch.refinenet4.resConfUnit1.conv1";

    @Test
    void aBacktrackingTargetAnswersAtOnce() {
        TargetSpec t = TargetSpec.parse("re:" + HANG);
        assertFalse(assertTimeoutPreemptively(Duration.ofSeconds(10), () -> t.matches(NAME)));
        assertTrue(TargetSpec.parse("re:depth_head\\..*conv1").matches(NAME));
    }

    @Test
    void aBacktrackingRankPatternKeyAnswersAtOnce() {
        LoraConfig c = LoraConfig.defaults().with(Map.of("rank_pattern", Map.of(HANG, 2), "alpha_pattern", Map.of(HANG, 3.0)));
        assertEquals(null, assertTimeoutPreemptively(Duration.ofSeconds(10), () -> LoraConfig.lookup(c.rankPattern(), NAME)));
        assertEquals(null, assertTimeoutPreemptively(Duration.ofSeconds(10), () -> LoraConfig.lookup(c.alphaPattern(), NAME)));
    }

    @Test
    void unsupportedSyntaxIsRefusedNamingTheSetting() {
        ConfigError e = assertThrows(ConfigError.class, () -> TargetSpec.parse("re:(a)\\1"));
        assertEquals("lora.targets", e.key());
        assertTrue(e.getMessage().contains("bad regular expression re:(a)\\1"), e.getMessage());
        assertThrows(ConfigError.class, () -> LoraConfig.defaults().with("rank_pattern", Map.of("(?=qkv)", 2)));
    }
}
