package com.loratool.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The run's checkpoints: {@code checkpoints/epoch-NNNN/} (adapter files + trainer_state.json +
 * optimizer.safetensors), the last {@code keep_last} kept, and {@code best/} (adapter files and
 * best.json). Each folder is written beside its final name and renamed into place, so a crash
 * never leaves a half-written checkpoint.
 */
public final class Checkpoints {
    public static final String STATE = "trainer_state.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    private static final ObjectMapper JSON = Json.SNAKE;

    private final Path root;
    private final Path best;
    private final int keepLast;

    public Checkpoints(Path runDir, int keepLast) {
        this.root = runDir.resolve("checkpoints");
        this.best = runDir.resolve("best");
        this.keepLast = keepLast;
    }

    public Path bestDir() {
        return best;
    }

    public Path epochDir(int epoch) {
        return root.resolve(String.format("epoch-%04d", epoch));
    }

    public Path saveEpoch(int epoch, AdapterConfig cfg, Map<String, HostTensor> adapters, TrainerState state,
            List<float[]> exp, List<float[]> expSq) {
        Path dir = epochDir(epoch);
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        deleteTree(tmp);
        Map<String, HostTensor> opt = new LinkedHashMap<>();
        for (int i = 0; i < exp.size(); i++) {
            opt.put(String.format("exp_avg.%04d", i), new HostTensor(new long[] {exp.get(i).length}, exp.get(i)));
            opt.put(String.format("exp_avg_sq.%04d", i), new HostTensor(new long[] {expSq.get(i).length}, expSq.get(i)));
        }
        try {
            AdapterCheckpoint.save(tmp, cfg, adapters);
            Safetensors.write(tmp.resolve(OPTIMIZER), opt, Map.of("format", "pt"));
            writeJson(tmp.resolve(STATE), state);
            replaceDir(tmp, dir);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        prune();
        return dir;
    }

    public void saveBest(AdapterConfig cfg, Map<String, HostTensor> adapters, Map<String, Object> info) {
        Path tmp = best.resolveSibling("best.tmp");
        deleteTree(tmp);
        try {
            AdapterCheckpoint.save(tmp, cfg, adapters);
            writeJson(tmp.resolve("best.json"), info);
            replaceDir(tmp, best);
        } catch (RuntimeException e) {
            deleteQuietly(tmp); // a full disk must not leave best.tmp/ behind
            throw e;
        }
    }

    /**
     * Removes what a killed or failed run left beside the checkpoints: {@code best.tmp/},
     * {@code best.old/}, {@code checkpoints/epoch-NNNN.tmp/} and {@code .old/}, and epoch folders
     * without their trainer state (never complete). Returns how many it removed.
     */
    public int removeLeftovers() {
        List<Path> junk = new ArrayList<>();
        for (String n : List.of("best.tmp", "best.old")) {
            if (Files.exists(best.resolveSibling(n))) {
                junk.add(best.resolveSibling(n));
            }
        }
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                s.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.matches("epoch-\\d{4,}\\.(tmp|old)") || (n.matches("epoch-\\d{4,}")
                            && !Files.exists(p.resolve(STATE)));
                }).forEach(junk::add);
            } catch (IOException e) {
                throw LoraException.file(root, "cannot list checkpoints: " + e.getMessage());
            }
        }
        junk.forEach(Checkpoints::deleteTree);
        return junk.size();
    }

    /** The newest complete epoch checkpoint, or null. */
    public Path latest() {
        List<Path> all = epochDirs();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Resumable contents of an epoch checkpoint. */
    public record Saved(AdapterCheckpoint adapters, TrainerState state, List<float[]> exp, List<float[]> expSq) {}

    public Saved load(Path dir) {
        AdapterCheckpoint a = AdapterCheckpoint.load(dir);
        Path stateFile = dir.resolve(STATE);
        TrainerState st;
        try {
            st = JSON.readerFor(TrainerState.class).with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(stateFile.toFile());
        } catch (IOException e) {
            throw LoraException.file(stateFile, "cannot read trainer state: " + e.getMessage());
        }
        Map<String, HostTensor> opt = Safetensors.read(dir.resolve(OPTIMIZER));
        List<float[]> exp = new ArrayList<>();
        List<float[]> expSq = new ArrayList<>();
        for (int i = 0; opt.containsKey(String.format("exp_avg.%04d", i)); i++) {
            exp.add(opt.get(String.format("exp_avg.%04d", i)).data());
            expSq.add(opt.get(String.format("exp_avg_sq.%04d", i)).data());
        }
        return new Saved(a, st, exp, expSq);
    }

    private List<Path> epochDirs() {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("epoch-\\d{4,}"))
                    .filter(p -> Files.exists(p.resolve(STATE)))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw LoraException.file(root, "cannot list checkpoints: " + e.getMessage());
        }
    }

    private void prune() {
        List<Path> all = epochDirs();
        for (int i = 0; i < all.size() - keepLast; i++) {
            deleteTree(all.get(i));
        }
    }

    private static void writeJson(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, Json.pretty(JSON).writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot write: " + e.getMessage());
        }
    }

    /** Moves tmp into place; an existing target is moved aside first and then deleted. */
    private static void replaceDir(Path tmp, Path target) {
        try {
            Path old = target.resolveSibling(target.getFileName() + ".old");
            deleteTree(old);
            if (Files.exists(target)) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } catch (IOException e) {
            throw LoraException.file(target, "cannot write checkpoint: " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteTree(p);
        } catch (RuntimeException ignored) {
            // the original failure is the one to report; removeLeftovers() retries at the next start
        }
    }

    static void deleteTree(Path p) {
        AtomicFiles.deleteTree(p);
    }
}
