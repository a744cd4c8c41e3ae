package com.loratool.model.weights;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A small pickle virtual machine for what {@code torch.save} writes (protocol 2, and the
 * protocol 3-5 opcodes of newer Pythons). It never runs code: globals become {@link Global}
 * markers, calls on known callables (OrderedDict, torch's tensor rebuilders) build Java
 * objects, and anything else becomes an inert {@link Instance}.
 *
 * <p>Python values map to: str → String, int → Long (BigInteger beyond 64 bits), float →
 * Double, bool → Boolean, None → null, tuple → unmodifiable List, list → ArrayList, dict /
 * OrderedDict → {@link Dict}.
 */
final class Unpickler {
    /** A module-level name ({@code GLOBAL module name}); never resolved. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** An object made by calling or instantiating something this VM does not know. */
    static final class Instance {
        final Global type;
        final Object args;
        Object state;

        Instance(Global type, Object args) {
            this.type = type;
            this.args = args;
        }

        @Override
        public String toString() {
            return type.toString() + " object";
        }
    }

    /** dict / OrderedDict; {@code attributes} holds the instance dict set by BUILD (e.g. _metadata). */
    static final class Dict extends LinkedHashMap<Object, Object> {
        final Map<String, Object> attributes = new LinkedHashMap<>();
    }

    /** A tensor still in the file: storage, element offset, size and stride. */
    record TensorRef(Object storage, long offset, long[] size, long[] stride) {}

    /** Thrown for malformed or unsupported pickles; the caller adds the file name. */
    static final class PickleException extends RuntimeException {
        PickleException(String m) {
            super(m);
        }
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final ByteBuffer in;
    private final Function<Object, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    Unpickler(byte[] data, Function<Object, Object> persistentLoad) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.persistentLoad = persistentLoad;
    }

    /** Runs the pickle to STOP and returns the top object. */
    Object load() {
        while (true) {
            if (!in.hasRemaining()) {
                throw new PickleException("pickle ends without STOP (truncated)");
            }
            int pos = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80: in.get(); break; // PROTO n
                case 0x95: in.getLong(); break; // FRAME len
                case '.': // STOP
                    return pop();
                case '(': marks.add(stack.size()); break; // MARK
                case '}': push(new Dict()); break; // EMPTY_DICT
                case ']': push(new ArrayList<>()); break; // EMPTY_LIST
                case ')': push(List.of()); break; // EMPTY_TUPLE
                case 'N': push(null); break; // NONE
                case 0x88: push(Boolean.TRUE); break; // NEWTRUE
                case 0x89: push(Boolean.FALSE); break; // NEWFALSE
                case 'J': push((long) in.getInt()); break; // BININT
                case 'K': push((long) (in.get() & 0xff)); break; // BININT1
                case 'M': push((long) (in.getShort() & 0xffff)); break; // BININT2
                case 0x8a: push(readLong(in.get() & 0xff)); break; // LONG1
                case 0x8b: push(readLong(in.getInt())); break; // LONG4
                case 'I': push(parseIntLine(readLine())); break; // INT
                case 'L': push(parseLongLine(readLine())); break; // LONG
                case 'G': push(in.order(ByteOrder.BIG_ENDIAN).getDouble()); in.order(ByteOrder.LITTLE_ENDIAN); break;
                case 'X': push(readString(in.getInt() & 0xffffffffL)); break; // BINUNICODE
                case 0x8c: push(readString(in.get() & 0xff)); break; // SHORT_BINUNICODE
                case 0x8d: push(readString(in.getLong())); break; // BINUNICODE8
                case 'U': push(readString(in.get() & 0xff)); break; // SHORT_BINSTRING
                case 'T': push(readString(in.getInt() & 0xffffffffL)); break; // BINSTRING
                case 'B': push(readBytes(in.getInt() & 0xffffffffL)); break; // BINBYTES
                case 'C': push(readBytes(in.get() & 0xff)); break; // SHORT_BINBYTES
                case 0x8e: push(readBytes(in.getLong())); break; // BINBYTES8
                case 'q': memo.put((long) (in.get() & 0xff), peek()); break; // BINPUT
                case 'r': memo.put(in.getInt() & 0xffffffffL, peek()); break; // LONG_BINPUT
                case 'p': memo.put(memoKey(readLine()), peek()); break; // PUT
                case 0x94: memo.put((long) memo.size(), peek()); break; // MEMOIZE
                case 'h': push(memoGet(in.get() & 0xff)); break; // BINGET
                case 'j': push(memoGet(in.getInt() & 0xffffffffL)); break; // LONG_BINGET
                case 'g': push(memoGet(memoKey(readLine()))); break; // GET
                case 'c': { // GLOBAL
                    String module = readLine();
                    String name = readLine();
                    push(new Global(module, name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw new PickleException("STACK_GLOBAL of a " + describe(module) + " and a " + describe(name));
                    }
                    push(new Global(m, n));
                    break;
                }
                case 't': push(Collections.unmodifiableList(new ArrayList<>(popMark()))); break; // TUPLE
                case 0x85: push(tuple(pop())); break; // TUPLE1
                case 0x86: { Object b = pop(); Object a = pop(); push(tuple(a, b)); break; } // TUPLE2
                case 0x87: { Object c = pop(); Object b = pop(); Object a = pop(); push(tuple(a, b, c)); break; }
                case 'l': push(new ArrayList<>(popMark())); break; // LIST
                case 'a': { Object v = pop(); asList(peek()).add(v); break; } // APPEND
                case 'e': { List<Object> items = popMark(); asList(peek()).addAll(items); break; } // APPENDS
                case 'd': { // DICT
                    List<Object> items = popMark();
                    Dict d = new Dict();
                    putPairs(d, items);
                    push(d);
                    break;
                }
                case 's': { Object v = pop(); Object k = key(pop()); asDict(peek()).put(k, v); break; } // SETITEM
                case 'u': { List<Object> items = popMark(); putPairs(asDict(peek()), items); break; } // SETITEMS
                case 0x8f: push(new ArrayList<>()); break; // EMPTY_SET (as a list)
                case 0x90: { List<Object> items = popMark(); asList(peek()).addAll(items); break; } // ADDITEMS
                case 0x91: push(Collections.unmodifiableList(new ArrayList<>(popMark()))); break; // FROZENSET
                case 'Q': push(persistentLoad.apply(pop())); break; // BINPERSID
                case 'R': { Object args = pop(); Object f = pop(); push(call(f, args)); break; } // REDUCE
                case 0x81: { Object args = pop(); Object cls = pop(); push(call(cls, args)); break; } // NEWOBJ
                case 0x92: { pop(); Object args = pop(); Object cls = pop(); push(call(cls, args)); break; } // NEWOBJ_EX
                case 'b': { Object state = pop(); build(peek(), state); break; } // BUILD
                case '0': pop(); break; // POP
                case '1': popMark(); break; // POP_MARK
                case '2': push(peek()); break; // DUP
                default:
                    throw new PickleException("pickle opcode " + opName(op) + " at byte " + pos + " is not supported");
            }
        }
    }

    private static List<Object> tuple(Object... items) {
        return Collections.unmodifiableList(Arrays.asList(items));
    }

    private Object call(Object f, Object args) {
        List<?> a = args instanceof List<?> l ? l : List.of();
        if (!(f instanceof Global g)) {
            throw new PickleException("pickle calls a non-global (" + describe(f) + ")");
        }
        String fn = g.toString();
        switch (fn) {
            case "collections.OrderedDict":
            case "builtins.dict":
            case "__builtin__.dict": {
                Dict d = new Dict();
                if (!a.isEmpty() && a.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (p instanceof List<?> kv && kv.size() == 2) {
                            d.put(key(kv.get(0)), kv.get(1));
                        }
                    }
                }
                return d;
            }
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                if (a.size() < 4) {
                    throw new PickleException(fn + " called with " + a.size() + " arguments");
                }
                return new TensorRef(a.get(0), toLong(a.get(1)), toLongs(a.get(2)), toLongs(a.get(3)));
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return a.isEmpty() ? null : a.get(0);
            default:
                return new Instance(g, args);
        }
    }

    private static void build(Object obj, Object state) {
        if (obj instanceof Dict d) {
            if (state instanceof Map<?, ?> m) {
                m.forEach((k, v) -> d.attributes.put(String.valueOf(key(k)), v));
            } else if (state instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Map<?, ?> m) {
                m.forEach((k, v) -> d.attributes.put(String.valueOf(key(k)), v));
            }
        } else if (obj instanceof Instance i) {
            i.state = state;
        }
        // BUILD on anything else (e.g. a tensor with hooks state) has nothing we need
    }

    private static long toLong(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        throw new PickleException("expected an int in a tensor description, got " + describe(o));
    }

    private static long[] toLongs(Object o) {
        if (!(o instanceof List<?> l)) {
            throw new PickleException("expected a tuple of ints in a tensor description, got " + describe(o));
        }
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = toLong(l.get(i));
        }
        return r;
    }

    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Instance i) {
            return i.toString();
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof List) {
            return "sequence";
        }
        return o.getClass().getSimpleName();
    }

    private void putPairs(Map<Object, Object> d, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw new PickleException("SETITEMS with an odd number of items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            d.put(key(items.get(i)), items.get(i + 1));
        }
    }

    /**
     * A dict key: str, int, float, bool, None or a global, or a flat tuple of those. Python
     * refuses lists and dicts as keys; refusing nested tuples too keeps hashing and printing
     * finite for pickles that build self-referencing or deeply nested structures.
     */
    private static Object key(Object k) {
        if (isScalar(k)) {
            return k;
        }
        if (k instanceof List<?> t && !(k instanceof ArrayList) && t.size() <= 64) {
            for (Object o : t) {
                if (!isScalar(o)) {
                    throw new PickleException("pickle uses a nested " + describe(k) + " as a dict key");
                }
            }
            return k;
        }
        throw new PickleException("pickle uses a " + describe(k) + " as a dict key");
    }

    private static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger
                || o instanceof Double || o instanceof Boolean || o instanceof Global || o instanceof byte[];
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object o) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw new PickleException("APPEND to a " + describe(o));
    }

    private static Map<Object, Object> asDict(Object o) {
        if (o instanceof Dict d) {
            return d;
        }
        if (o instanceof Instance) {
            return new Dict(); // dict items of an unknown object: parsed and dropped
        }
        throw new PickleException("SETITEM on a " + describe(o));
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
            throw new PickleException("pickle stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.isEmpty()) {
            throw new PickleException("pickle stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw new PickleException("pickle MARK missing");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> sub = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(sub);
        sub.clear();
        return items;
    }

    private Object memoGet(long k) {
        if (!memo.containsKey(k)) {
            throw new PickleException("pickle memo key " + k + " missing");
        }
        return memo.get(k);
    }

    private String readLine() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (!in.hasRemaining()) {
                throw new PickleException("pickle ends inside a text line (truncated)");
            }
            byte c = in.get();
            if (c == '\n') {
                return sb.toString();
            }
            sb.append((char) (c & 0xff));
        }
    }

    private byte[] readBytes(long n) {
        if (n < 0 || n > in.remaining()) {
            throw new PickleException("pickle string runs past the end (truncated)");
        }
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private String readString(long n) {
        return new String(readBytes(n), StandardCharsets.UTF_8);
    }

    private Object readLong(int n) {
        byte[] le = readBytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be); // two's complement, as pickle's LONG1/LONG4
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static long memoKey(String line) {
        try {
            return Long.parseLong(line.trim());
        } catch (NumberFormatException e) {
            throw new PickleException("pickle memo key '" + printable(line) + "' is not a number");
        }
    }

    private static Object parseIntLine(String s) {
        String t = s.trim();
        if (t.equals("00")) {
            return Boolean.FALSE;
        }
        if (t.equals("01")) {
            return Boolean.TRUE;
        }
        return parseLongLine(t);
    }

    /** Python limits int text to 4300 digits; so does this (BigInteger parsing is superlinear). */
    private static final int MAX_DIGITS = 4300;

    private static Object parseLongLine(String s) {
        String t = s.trim();
        if (t.endsWith("L")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.length() > MAX_DIGITS) {
            throw new PickleException("pickle integer of " + t.length() + " digits is too long");
        }
        try {
            BigInteger v = new BigInteger(t);
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw new PickleException("pickle integer '" + printable(t) + "' is not a number");
        }
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
        return sb.toString();
    }

    private static final Map<Integer, String> NAMES = new HashMap<>();

    static {
        String[][] table = {
            {"(", "MARK"}, {".", "STOP"}, {"0", "POP"}, {"1", "POP_MARK"}, {"2", "DUP"}, {"F", "FLOAT"},
            {"I", "INT"}, {"J", "BININT"}, {"K", "BININT1"}, {"L", "LONG"}, {"M", "BININT2"}, {"N", "NONE"},
            {"P", "PERSID"}, {"Q", "BINPERSID"}, {"R", "REDUCE"}, {"S", "STRING"}, {"T", "BINSTRING"},
            {"U", "SHORT_BINSTRING"}, {"V", "UNICODE"}, {"X", "BINUNICODE"}, {"a", "APPEND"}, {"b", "BUILD"},
            {"c", "GLOBAL"}, {"d", "DICT"}, {"}", "EMPTY_DICT"}, {"e", "APPENDS"}, {"g", "GET"},
            {"h", "BINGET"}, {"i", "INST"}, {"j", "LONG_BINGET"}, {"l", "LIST"}, {"]", "EMPTY_LIST"},
            {"o", "OBJ"}, {"p", "PUT"}, {"q", "BINPUT"}, {"r", "LONG_BINPUT"}, {"s", "SETITEM"},
            {"t", "TUPLE"}, {")", "EMPTY_TUPLE"}, {"u", "SETITEMS"}, {"G", "BINFLOAT"},
            {"B", "BINBYTES"}, {"C", "SHORT_BINBYTES"},
        };
        for (String[] e : table) {
            NAMES.put((int) e[0].charAt(0), e[1]);
        }
        String[] high = {"PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE",
            "NEWFALSE", "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET",
            "ADDITEMS", "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8",
            "NEXT_BUFFER", "READONLY_BUFFER"};
        for (int i = 0; i < high.length; i++) {
            NAMES.put(0x80 + i, high[i]);
        }
    }

    /** "NAME (0xNN)" for an opcode byte. */
    static String opName(int op) {
        String n = NAMES.get(op);
        return (n == null ? "unknown" : n) + String.format(" (0x%02x)", op);
    }
}
