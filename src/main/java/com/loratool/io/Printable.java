package com.loratool.io;

/**
 * Text taken from a file (names, header snippets) made safe for a one-line error message:
 * control characters become '?', and long text is cut.
 */
public final class Printable {
    private static final int MAX = 200;

    private Printable() {}

    public static String of(Object text) {
        String s = String.valueOf(text);
        StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX + 3));
        for (int i = 0; i < s.length() && i < MAX; i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? '?' : c);
        }
        if (s.length() > MAX) {
            sb.append("...");
        }
        return sb.toString();
    }
}
