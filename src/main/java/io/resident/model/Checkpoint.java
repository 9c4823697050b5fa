package io.resident.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The safetensors weights of a model directory: one model.safetensors, or shards listed by model.safetensors.index.json. */
final class Checkpoint implements AutoCloseable {

    private final List<Safetensors> files = new ArrayList<>();
    private final Map<String, Safetensors> byTensor = new HashMap<>();

    Checkpoint(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        Path single = dir.resolve("model.safetensors");
        try {
            if (Files.isRegularFile(index)) {
                openShards(dir, index);
            } else if (Files.isRegularFile(single)) {
                add(new Safetensors(single));
            } else {
                throw new ModelLoadException(dir + " has no model.safetensors or model.safetensors.index.json"
                        + (hasPytorchBin(dir) ? " (only pytorch_model*.bin, which is not supported: convert it to safetensors)" : ""));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void openShards(Path dir, Path index) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new ModelLoadException(index + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new ModelLoadException(index + " has no weight_map");
        }
        Map<String, Safetensors> shards = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shardName = e.getValue().asText();
            Safetensors shard = shards.get(shardName);
            if (shard == null) {
                Path shardFile = dir.resolve(shardName);
                if (!Files.isRegularFile(shardFile)) {
                    throw new ModelLoadException("shard " + shardName + " listed in " + index.getFileName() + " is missing from " + dir);
                }
                shard = new Safetensors(shardFile);
                shards.put(shardName, shard);
                add(shard);
            }
            if (!shard.entries().containsKey(e.getKey())) {
                throw new ModelLoadException("tensor " + e.getKey() + " listed in " + index.getFileName() + " is missing from " + shardName);
            }
        }
    }

    private static boolean hasPytorchBin(Path dir) {
        try (var list = Files.list(dir)) {
            return list.anyMatch(p -> p.getFileName().toString().startsWith("pytorch_model"));
        } catch (IOException e) {
            return false;
        }
    }

    private void add(Safetensors file) {
        files.add(file);
        file.entries().keySet().forEach(name -> byTensor.put(name, file));
    }

    Safetensors.Entry entry(String name) {
        Safetensors file = byTensor.get(name);
        if (file == null) {
            throw new ModelLoadException("the checkpoint has no tensor " + name);
        }
        return file.entries().get(name);
    }

    ByteBuffer map(Safetensors.Entry entry) {
        return byTensor.get(entry.name()).map(entry);
    }

    /** Elements of every tensor in the checkpoint. */
    long elements() {
        return files.stream()
                .flatMap(file -> file.entries().values().stream())
                .mapToLong(entry -> Arrays.stream(entry.shape()).reduce(1, Math::multiplyExact))
                .sum();
    }

    @Override
    public void close() {
        files.forEach(Safetensors::close);
    }
}
