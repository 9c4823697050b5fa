package io.resident.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/** Which files of a Hugging Face checkpoint resident needs: config, generation config, tokenizer files, safetensors weights. */
final class CheckpointFiles {

    static final String CONFIG = "config.json";
    static final String INDEX = "model.safetensors.index.json";
    static final String SINGLE = "model.safetensors";

    /** Files taken when present; config.json is also required. */
    static final List<String> SUPPORT = List.of(CONFIG, "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json",
            "vocab.json", "merges.txt", "chat_template.jinja", "chat_template.json");

    private static final List<String> OTHER_WEIGHT_FORMATS = List.of(".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf");
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointFiles() {
    }

    /**
     * The files to take from a checkpoint that has the given ones: the support files present, the
     * safetensors index and its shards or model.safetensors. Fails with a clear message when the
     * checkpoint cannot be served; the index reader is called only when the index is available.
     */
    static List<String> select(String source, Collection<String> available, IndexReader index) throws IOException {
        if (!available.contains(CONFIG)) {
            throw new HubException(source + " has no " + CONFIG + ": it is not a Hugging Face transformers checkpoint");
        }
        List<String> files = new ArrayList<>(SUPPORT.stream().filter(available::contains).toList());
        List<String> weights = weightFiles(source, available, index).orElseThrow(() -> noSafetensors(source, available));
        List<String> absent = weights.stream().filter(f -> !available.contains(f)).toList();
        if (!absent.isEmpty()) {
            throw new HubException(source + "'s " + INDEX + " names shards it does not have: " + String.join(", ", absent));
        }
        files.addAll(weights);
        return files;
    }

    /** Whether a directory's files make a whole checkpoint: config.json and every safetensors weight file. */
    static boolean complete(String source, Collection<String> available, IndexReader index) throws IOException {
        return available.contains(CONFIG)
                && weightFiles(source, available, index).map(available::containsAll).orElse(false);
    }

    /**
     * The safetensors weight files: the shards the index names, else model.safetensors; empty when the
     * checkpoint has neither. The index reader is called only when the index is available.
     */
    private static Optional<List<String>> weightFiles(String source, Collection<String> available, IndexReader index)
            throws IOException {
        if (available.contains(INDEX)) {
            List<String> files = new ArrayList<>(shards(source, index.read()));
            files.addFirst(INDEX);
            return Optional.of(files);
        }
        return available.contains(SINGLE) ? Optional.of(List.of(SINGLE)) : Optional.empty();
    }

    private static HubException noSafetensors(String source, Collection<String> available) {
        List<String> others = available.stream()
                .filter(f -> OTHER_WEIGHT_FORMATS.stream().anyMatch(f::endsWith))
                .sorted().toList();
        if (others.isEmpty()) {
            return new HubException(source + " has no weights (no " + SINGLE + " and no " + INDEX + ")");
        }
        return new HubException(source + " has its weights only as " + String.join(", ", others)
                + ": resident loads safetensors weights (" + SINGLE + " or " + INDEX + " with its shards)."
                + " Pick a revision that has them (the Hub's safetensors conversion bot often offers one as a pull"
                + " request: RESIDENT_MODEL=org/name@refs/pr/N) or convert the checkpoint to safetensors.");
    }

    private static TreeSet<String> shards(String source, byte[] indexJson) {
        JsonNode map;
        try {
            map = JSON.readTree(indexJson).path("weight_map");
        } catch (IOException e) {
            throw new HubException(source + "'s " + INDEX + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new HubException(source + "'s " + INDEX + " has no weight_map");
        }
        TreeSet<String> shards = new TreeSet<>();
        map.forEach(file -> shards.add(plainName(source, file.asText())));
        return shards;
    }

    // a shard name is joined to cache and download paths, so it must not climb out of the snapshot
    private static String plainName(String source, String name) {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..") || name.equals(".")) {
            throw new HubException(source + "'s " + INDEX + " names an unusable shard file '" + name + "'");
        }
        return name;
    }

    /** Reads the safetensors index of the checkpoint at hand. */
    @FunctionalInterface
    interface IndexReader {
        byte[] read() throws IOException;
    }
}
