package io.resident.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/** Opens the tokenizer of a model directory in the format its files call for. */
public final class Tokenizers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {
    }

    /**
     * ChatGLM3 (config.json model_type chatglm with a tokenizer.model) gets the SentencePiece tokenizer; every other
     * model its tokenizer.json with the chat template of tokenizer_config.json.
     */
    public static Tokenizer load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new TokenizerLoadException("model directory " + modelDir + " does not exist");
        }
        JsonNode config = readJson(modelDir.resolve("config.json"), false);
        Set<Integer> eosIds = new LinkedHashSet<>();
        addIds(config.path("eos_token_id"), eosIds);
        addIds(readJson(modelDir.resolve("generation_config.json"), false).path("eos_token_id"), eosIds);
        if ("chatglm".equals(config.path("model_type").asText())) {
            Path spModel = modelDir.resolve("tokenizer.model");
            if (!Files.isRegularFile(spModel)) {
                throw new TokenizerLoadException("ChatGLM model " + modelDir + " has no tokenizer.model");
            }
            return new ChatGlm3Tokenizer(spModel, eosIds);
        }
        return HfTokenizer.load(modelDir, eosIds);
    }

    /** A JSON file's tree; a missing optional file reads as an empty object. */
    static JsonNode readJson(Path file, boolean required) {
        if (!Files.isRegularFile(file)) {
            if (required) {
                throw new TokenizerLoadException("missing " + file);
            }
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerLoadException("cannot parse " + file + ": " + e.getMessage(), e);
        }
    }

    private static void addIds(JsonNode node, Set<Integer> ids) {
        if (node.isInt()) {
            ids.add(node.asInt());
        } else if (node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        }
    }
}
