package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Llama 2, 3, 3.1 and 3.2 (rope_type "llama3" scaling, tied or untied embeddings, GQA and MQA, an explicit
 * head_dim), and Mistral, which is Llama with its own config. Mistral's sliding_window: resident serves full
 * attention and caps the context at the window, where full and windowed attention are the same function.
 * Weights use the Hugging Face names; q/k/v and gate/up are fused into one matrix each while loading.
 */
final class Llama implements Family {

    static final Llama LLAMA = new Llama("llama");
    static final Llama MISTRAL = new Llama("mistral");

    private final String family;

    private Llama(String family) {
        this.family = family;
    }

    @Override
    public ModelConfig config(ConfigJson json, GenerationDefaults generation) {
        if (json.flag("attention_bias", false) || json.flag("mlp_bias", false)) {
            throw new ModelLoadException("config.json sets attention_bias or mlp_bias, which resident's Llama does not support");
        }
        return hfConfig(json, generation, family, false, json.integer("sliding_window", 0));
    }

    /** The config.json of the Hugging Face Llama lineage (Llama, Mistral, Qwen2). */
    static ModelConfig hfConfig(ConfigJson json, GenerationDefaults generation, String family, boolean qkvBias, int slidingWindow) {
        int hidden = json.integer("hidden_size");
        int heads = json.integer("num_attention_heads");
        int headDim = json.integer("head_dim", hidden / heads);
        // transformers 5 writes rope_parameters; older configs have rope_theta and rope_scaling at the top
        ConfigJson rope = json.child("rope_parameters");
        ConfigJson scaling = rope != null ? rope : json.child("rope_scaling");
        double theta = (rope != null ? rope : json).number("rope_theta", 10000.0);
        double partial = (rope != null ? rope : json).number("partial_rotary_factor", json.number("partial_rotary_factor", 1.0));
        return new ModelConfig(
                family,
                json.integer("vocab_size"),
                hidden,
                json.integer("num_hidden_layers"),
                heads,
                json.integer("num_key_value_heads", heads),
                headDim,
                json.integer("intermediate_size"),
                json.integer("max_position_embeddings"),
                eos(json, generation),
                json.dtype(),
                theta,
                (int) (headDim * partial),
                ropeScaling(scaling),
                json.number("rms_norm_eps", 1e-6),
                qkvBias,
                json.flag("tie_word_embeddings", false),
                slidingWindow,
                generation);
    }

    private static ModelConfig.RopeScaling ropeScaling(ConfigJson scaling) {
        if (scaling == null) {
            return null;
        }
        String type = scaling.text("rope_type", scaling.text("type", "default"));
        return switch (type) {
            case "default" -> null;
            case "linear" -> new ModelConfig.RopeScaling(type, scaling.number("factor", 1.0), 0, 0, 0);
            case "llama3" -> new ModelConfig.RopeScaling(type, scaling.number("factor", 8.0),
                    scaling.number("low_freq_factor", 1.0), scaling.number("high_freq_factor", 4.0),
                    scaling.integer("original_max_position_embeddings", 8192));
            default -> throw new ModelLoadException("rope type \"" + type + "\" is not supported (supported: default, linear, llama3)");
        };
    }

    /** eos ids of config.json, then those generation_config.json adds. */
    static List<Integer> eos(ConfigJson json, GenerationDefaults generation) {
        LinkedHashSet<Integer> ids = new LinkedHashSet<>(json.ids("eos_token_id"));
        ids.addAll(generation.eosTokenIds());
        return List.copyOf(ids);
    }

    @Override
    public Transformer.Weights weights(ModelConfig c, WeightReader r) {
        return hfWeights(c, r);
    }

    /** Weights under the Hugging Face names shared by Llama, Mistral and Qwen2. */
    static Transformer.Weights hfWeights(ModelConfig c, WeightReader r) {
        long h = c.hiddenSize(), q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim(), f = c.intermediateSize();
        NDArray embedding = r.read("model.embed_tokens.weight", c.vocabSize(), h);
        List<Transformer.Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            NDArray qkv = fuse(r.read(p + "self_attn.q_proj.weight", q, h), r.read(p + "self_attn.k_proj.weight", kv, h),
                    r.read(p + "self_attn.v_proj.weight", kv, h));
            NDArray qkvBias = !c.qkvBias() ? null : fuse(r.read(p + "self_attn.q_proj.bias", q),
                    r.read(p + "self_attn.k_proj.bias", kv), r.read(p + "self_attn.v_proj.bias", kv));
            layers.add(new Transformer.Layer(
                    r.read(p + "input_layernorm.weight", h),
                    qkv,
                    qkvBias,
                    r.read(p + "self_attn.o_proj.weight", h, q),
                    r.read(p + "post_attention_layernorm.weight", h),
                    fuse(r.read(p + "mlp.gate_proj.weight", f, h), r.read(p + "mlp.up_proj.weight", f, h)),
                    r.read(p + "mlp.down_proj.weight", h, f)));
        }
        NDArray head = c.tiedEmbeddings() ? embedding : r.read("lm_head.weight", c.vocabSize(), h);
        return new Transformer.Weights(embedding, layers, r.read("model.norm.weight", h), head);
    }

    /** Rows of the parts stacked into one matrix; the parts are freed. */
    static NDArray fuse(NDArray... parts) {
        try (NDList list = new NDList(parts)) {
            return NDArrays.concat(list, 0);
        }
    }
}
