package io.resident.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * ChatGLM3-6B and -32k (THUDM's modeling_chatglm.py): fused query_key_value with bias, multi-query groups,
 * RoPE on the first half of each head in interleaved pairs with base 10000 * rope_ratio, SwiGLU whose first
 * half is the gate, an untied output layer.
 */
final class ChatGLM implements Family {

    static final ChatGLM INSTANCE = new ChatGLM();
    /** What chat() samples with, as ChatGLM3 ships no generation_config.json: temperature 0.8, top-p 0.8, HF's top-k 50. */
    static final GenerationDefaults CHAT_DEFAULTS = new GenerationDefaults(List.of(), true, 0.8, 50, 0.8, 1.0, 0);

    @Override
    public ModelConfig config(ConfigJson json, GenerationDefaults generation) {
        if (!json.flag("rmsnorm", true) || !json.flag("post_layer_norm", true) || json.flag("add_bias_linear", false)
                || json.flag("apply_residual_connection_post_layernorm", false) || !json.flag("original_rope", true)) {
            throw new ModelLoadException("config.json describes a ChatGLM variant resident does not implement"
                    + " (it needs rmsnorm, post_layer_norm, original_rope and no add_bias_linear)");
        }
        int heads = json.integer("num_attention_heads");
        int headDim = json.integer("kv_channels", json.integer("hidden_size") / heads);
        GenerationDefaults defaults = generation == GenerationDefaults.NONE ? CHAT_DEFAULTS : generation;
        return new ModelConfig(
                "chatglm",
                json.integer("padded_vocab_size"),
                json.integer("hidden_size"),
                json.integer("num_layers"),
                heads,
                json.flag("multi_query_attention", false) ? json.integer("multi_query_group_num", 1) : heads,
                headDim,
                json.integer("ffn_hidden_size"),
                json.integer("seq_length"),
                Llama.eos(json, defaults),
                json.dtype(),
                10000.0 * json.number("rope_ratio", 1.0),
                headDim / 2,
                null,
                json.number("layernorm_epsilon", 1e-5),
                json.flag("add_qkv_bias", false),
                false,
                0,
                defaults);
    }

    @Override
    public Transformer.Weights weights(ModelConfig c, WeightReader r) {
        long h = c.hiddenSize(), qkvRows = (long) (c.heads() + 2 * c.kvHeads()) * c.headDim(), f = c.intermediateSize();
        List<Transformer.Layer> layers = new ArrayList<>();
        try (NDArray rows = r.manager().create(rotateHalfOrder(c))) {
            for (int i = 0; i < c.layers(); i++) {
                String p = "transformer.encoder.layers." + i + ".";
                layers.add(new Transformer.Layer(
                        r.read(p + "input_layernorm.weight", h),
                        permuted(r.read(p + "self_attention.query_key_value.weight", qkvRows, h), rows),
                        c.qkvBias() ? permuted(r.read(p + "self_attention.query_key_value.bias", qkvRows), rows) : null,
                        r.read(p + "self_attention.dense.weight", h, (long) c.heads() * c.headDim()),
                        r.read(p + "post_attention_layernorm.weight", h),
                        r.read(p + "mlp.dense_h_to_4h.weight", 2 * f, h),
                        r.read(p + "mlp.dense_4h_to_h.weight", h, f)));
            }
        }
        return new Transformer.Weights(
                r.read("transformer.embedding.word_embeddings.weight", c.vocabSize(), h),
                layers,
                r.read("transformer.encoder.final_layernorm.weight", h),
                r.read("transformer.output_layer.weight", c.vocabSize(), h));
    }

    /**
     * Row order of query_key_value that turns ChatGLM's interleaved pairs (2i, 2i+1) into rotate-half pairs
     * (i, i + rotaryDim/2) in every q and k head, so the common RoPE kernel serves it: q·k is unchanged
     * because q and k are permuted alike, and v and the unrotated half of each head keep their order.
     */
    static long[] rotateHalfOrder(ModelConfig c) {
        int d = c.headDim(), half = c.rotaryDim() / 2;
        long[] order = new long[(c.heads() + 2 * c.kvHeads()) * d];
        for (int row = 0; row < order.length; row++) {
            order[row] = row;
        }
        for (int head = 0; head < c.heads() + c.kvHeads(); head++) {
            for (int i = 0; i < half; i++) {
                order[head * d + i] = head * d + 2L * i;
                order[head * d + half + i] = head * d + 2L * i + 1;
            }
        }
        return order;
    }

    private static NDArray permuted(NDArray tensor, NDArray rows) {
        try (tensor) {
            return tensor.get(new NDIndex("{}", rows));
        }
    }
}
