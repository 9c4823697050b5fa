package io.resident.model;

import java.util.ArrayList;
import java.util.List;

/** One architecture family: how its config.json and weight names map onto the common {@link Transformer}. */
interface Family {

    ModelConfig config(ConfigJson json, GenerationDefaults generation);

    Transformer.Weights weights(ModelConfig config, WeightReader reader);

    /** The family of a config.json, by model_type, else by architectures. */
    static Family of(ConfigJson json) {
        String type = json.text("model_type", "");
        List<String> architectures = new ArrayList<>();
        json.json().path("architectures").forEach(a -> architectures.add(a.asText()));
        String architecture = architectures.isEmpty() ? "" : architectures.get(0);
        Family family = named(type.isEmpty() ? architecture : type);
        if (family == null) {
            throw new ModelLoadException("unsupported architecture " + (architecture.isEmpty() ? "(none given)" : architecture)
                    + " (model_type \"" + type + "\"); supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, ChatGLMModel");
        }
        return family;
    }

    /** By model_type or architecture name; null when unknown. */
    static Family named(String name) {
        return switch (name) {
            case "llama", "LlamaForCausalLM" -> Llama.LLAMA;
            case "mistral", "MistralForCausalLM" -> Llama.MISTRAL;
            case "qwen2", "Qwen2ForCausalLM" -> Qwen2.INSTANCE;
            case "chatglm", "ChatGLMModel", "ChatGLMForConditionalGeneration" -> ChatGLM.INSTANCE;
            default -> null;
        };
    }
}
