package io.resident.model;

/**
 * Qwen2 and Qwen2.5: the Llama layout with a bias on q, k and v (none on o_proj), tied embeddings on the
 * small models. Its sliding window applies only with use_sliding_window, and then caps the context as for Mistral.
 */
final class Qwen2 implements Family {

    static final Qwen2 INSTANCE = new Qwen2();

    @Override
    public ModelConfig config(ConfigJson json, GenerationDefaults generation) {
        int window = json.flag("use_sliding_window", false) ? json.integer("sliding_window", 0) : 0;
        return Llama.hfConfig(json, generation, "qwen2", true, window);
    }

    @Override
    public Transformer.Weights weights(ModelConfig config, WeightReader reader) {
        return Llama.hfWeights(config, reader);
    }
}
