package com.loratool.config;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * Regular expressions written by users ({@code re:} targets, {@code rank_pattern} and
 * {@code alpha_pattern} keys) compile here, with RE2/J: matching takes time linear in the name's
 * length whatever the pattern, so no pattern can hang the program (no catastrophic backtracking).
 * RE2 syntax: the JDK's usual classes, groups, alternation, repetition and anchors, but no
 * backreferences and no look-around (docs/training.md, "Patterns").
 */
public final class UserPattern {
    private UserPattern() {}

    /** {@code regex} compiled; a bad one is refused as "{@code key}: bad regular expression {@code shown}: ...". */
    public static Pattern compile(String key, String shown, String regex) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ConfigError(key, "bad regular expression " + shown + ": " + e.getDescription()
                    + " (RE2 syntax: no backreferences or look-around)");
        }
    }
}
