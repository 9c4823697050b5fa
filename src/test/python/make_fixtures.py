"""Tiny random-weight checkpoints of every family, with Hugging Face transformers' outputs as the reference.

Writes src/test/resources/fixtures/<name>/ (safetensors, config.json, generation_config.json, golden.json).
golden.json holds, per prompt: 32 greedy ids and the first steps' logits computed by transformers in float32
on the CPU from the saved weights, and the greedy ids of transformers in float16 on CUDA when a GPU is there.
A bf16 fixture gets transformers' bf16 ids on the CPU too (bf16_ids), and on CUDA when a GPU is there.
A ChatGLM3 directory given with --chatglm gets its float16 CUDA ids too, through transformers' Glm classes.

    python3 src/test/python/make_fixtures.py [--out DIR] [--only NAME ...] [--chatglm DIR]
"""

import argparse
import json
import os

import torch
import transformers
from transformers import (AutoModelForCausalLM, GenerationConfig, GlmConfig, GlmForCausalLM, LlamaConfig,
                          LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)

STEPS = 32
LOGIT_STEPS = 4
COMMON = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=2048)


def fixtures():
    """name -> (model class, config, saved dtype, shard size or None, generation config or None)."""
    llama3_rope = dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                       high_freq_factor=4.0, original_max_position_embeddings=32)
    return {
        # Llama 3.1 shape: untied, GQA, llama3 rope scaling (original context 32 so every band is used), sharded
        "llama3-tiny": (LlamaForCausalLM, LlamaConfig(**COMMON, vocab_size=1536, intermediate_size=128, num_key_value_heads=2,
                        rms_norm_eps=1e-5, tie_word_embeddings=False, rope_parameters=llama3_rope,
                        bos_token_id=1, eos_token_id=[2, 3]), torch.float16, "100KB",
                        GenerationConfig(bos_token_id=1, eos_token_id=[2, 3, 4], do_sample=True, temperature=0.6, top_p=0.9)),
        # Llama 2 style with MQA (one KV head) and an explicit head_dim wider than hidden / heads, tied
        "llama-mqa-tiny": (LlamaForCausalLM, LlamaConfig(**COMMON, vocab_size=1024, intermediate_size=96, num_key_value_heads=1,
                           head_dim=32, rms_norm_eps=1e-6, tie_word_embeddings=True,
                           rope_parameters=dict(rope_type="default", rope_theta=10000.0),
                           bos_token_id=1, eos_token_id=2), torch.float32, None, None),
        # Qwen2.5 small-model shape: q/k/v bias, tied embeddings
        "qwen2-tiny": (Qwen2ForCausalLM, Qwen2Config(**COMMON, vocab_size=1000, intermediate_size=160, num_key_value_heads=2,
                       rms_norm_eps=1e-6, tie_word_embeddings=True,
                       rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
                       bos_token_id=None, eos_token_id=5), torch.float16, None,
                       GenerationConfig(eos_token_id=[5, 6], do_sample=True, temperature=0.7, top_p=0.8, top_k=20,
                                        repetition_penalty=1.05)),
        # Mistral v0.1 shape: GQA, sliding_window
        "mistral-tiny": (MistralForCausalLM, MistralConfig(**COMMON, vocab_size=1200, intermediate_size=128, num_key_value_heads=2,
                         rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=1024,
                         rope_parameters=dict(rope_type="default", rope_theta=10000.0),
                         bos_token_id=1, eos_token_id=2), torch.float16, None, None),
        # the Qwen2 shape saved in bfloat16, as Qwen2.5 and Llama 3.x checkpoints are
        "qwen2-bf16-tiny": (Qwen2ForCausalLM, Qwen2Config(**COMMON, vocab_size=1000, intermediate_size=160, num_key_value_heads=2,
                            rms_norm_eps=1e-6, tie_word_embeddings=True,
                            rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
                            bos_token_id=None, eos_token_id=5), torch.bfloat16, "150KB", None),
        # bf16 with hidden states past float16's 65,504, as real Qwen2 weights have them: float16 compute overflows
        "qwen2-bf16-massive-tiny": (Qwen2ForCausalLM, Qwen2Config(**COMMON, vocab_size=256, intermediate_size=160,
                                    num_key_value_heads=2, rms_norm_eps=1e-6, tie_word_embeddings=False,
                                    rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
                                    bos_token_id=None, eos_token_id=5), torch.bfloat16, None, None),
    }


# fixture -> factor on the weights that write the residual stream (embedding, o_proj, down_proj): the norms undo it,
# so the model stays well-conditioned while its hidden states grow past float16's range
MASSIVE = {"qwen2-bf16-massive-tiny": 3.0e4}
FLOAT16_MAX = 65504.0


def massive(model, factor):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("embed_tokens.weight", "o_proj.weight", "down_proj.weight")):
                p.mul_(factor)


def largest_hidden(model, prompt):
    with torch.no_grad():
        states = model(input_ids=torch.tensor([prompt]), output_hidden_states=True).hidden_states
    return max(h.abs().max().item() for h in states)


def randomize(model, seed):
    """Weights large enough that logits spread over several units, so greedy choices are not near-ties."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if p.dim() == 1:
                p.copy_(1 + 0.1 * noise if "norm" in name else 0.1 * noise)
            elif "embed" in name or "lm_head" in name:
                p.copy_(0.5 * noise)
            else:
                p.copy_(noise / p.shape[1] ** 0.5)


def greedy(model, prompt, device):
    """Greedy ids, logits of the first steps and the smallest top-1/top-2 gap; full recompute each step."""
    ids = torch.tensor([prompt], device=device)
    out, logits, gap = [], [], float("inf")
    with torch.no_grad():
        for step in range(STEPS):
            row = model(input_ids=ids).logits[0, -1].float().cpu()
            top = torch.topk(row, 2).values
            gap = min(gap, (top[0] - top[1]).item())
            if step < LOGIT_STEPS:
                logits.append([round(v, 6) for v in row.tolist()])
            nxt = int(row.argmax())
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]], device=device)], dim=1)
    return out, logits, gap


def bf16_cuda_model(load):
    return load(torch.bfloat16).cuda().eval() if torch.cuda.is_available() else None


def fp16_cuda(load):
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    return load(torch.float16).cuda().eval()


def make(out_dir, name, cls, config, dtype, shard, generation, seed):
    path = os.path.join(out_dir, name)
    os.makedirs(path, exist_ok=True)
    torch.manual_seed(seed)
    model = cls(config).eval()
    randomize(model, seed)
    if name in MASSIVE:
        massive(model, MASSIVE[name])
    model = model.to(dtype)
    if generation is not None:
        model.generation_config = generation
    model.save_pretrained(path, max_shard_size=shard) if shard else model.save_pretrained(path)

    load = lambda dt: AutoModelForCausalLM.from_pretrained(path, dtype=dt, attn_implementation="eager")
    ref = load(torch.float32).eval()
    half = fp16_cuda(load)
    bf16 = load(torch.bfloat16).eval() if dtype == torch.bfloat16 else None
    bf16_cuda = bf16_cuda_model(load) if bf16 is not None else None
    g = torch.Generator().manual_seed(seed + 1)
    prompts = [torch.randint(7, config.vocab_size, (n,), generator=g).tolist() for n in (9, 21)]
    golden = {"transformers": transformers.__version__, "torch": torch.__version__, "prompts": []}
    for i, prompt in enumerate(prompts):
        ids, logits, gap = greedy(ref, prompt, "cpu")
        entry = {"prompt_ids": prompt, "output_ids": ids, "min_gap": gap}
        if i == 0:
            entry["logits_first_steps"] = logits
        if half is not None:
            entry["fp16_cuda_ids"] = greedy(half, prompt, "cuda")[0]
        if bf16 is not None:
            entry["bf16_ids"], _, entry["bf16_min_gap"] = greedy(bf16, prompt, "cpu")
        if bf16_cuda is not None:
            entry["bf16_cuda_ids"] = greedy(bf16_cuda, prompt, "cuda")[0]
        if name in MASSIVE:
            entry["largest_hidden"] = largest_hidden(bf16, prompt)
            assert entry["largest_hidden"] > FLOAT16_MAX, f"{name}: hidden states stay within float16's range"
        golden["prompts"].append(entry)
    with open(os.path.join(path, "golden.json"), "w") as f:
        json.dump(golden, f)
    sizes = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    print(f"{name}: {sizes // 1024} KB, min gaps {[round(p['min_gap'], 4) for p in golden['prompts']]},"
          f" fp16 agrees for {[agree(p) for p in golden['prompts']]} tokens")


def agree(entry):
    half = entry.get("fp16_cuda_ids") or []
    return next((i for i, (a, b) in enumerate(zip(entry["output_ids"], half)) if a != b), len(half))


def chatglm_fp16(chatglm_dir, out_file):
    """ChatGLM3 weights mapped onto transformers' Glm (same function, see the ChatGLM notes); greedy ids in fp16."""
    from safetensors.torch import load_file
    cfg = json.load(open(os.path.join(chatglm_dir, "config.json")))
    golden = json.load(open(chatglm_dir.rstrip("/") + "-golden.json"))
    state = {}
    for f in sorted(os.listdir(chatglm_dir)):
        if f.endswith(".safetensors"):
            state.update(load_file(os.path.join(chatglm_dir, f)))
    heads, d, groups = cfg["num_attention_heads"], cfg["kv_channels"], cfg["multi_query_group_num"]
    q, kv = heads * d, groups * d
    glm = GlmConfig(vocab_size=cfg["padded_vocab_size"], hidden_size=cfg["hidden_size"],
                    intermediate_size=cfg["ffn_hidden_size"], num_hidden_layers=cfg["num_layers"],
                    num_attention_heads=heads, num_key_value_heads=groups, head_dim=d, partial_rotary_factor=0.5,
                    rms_norm_eps=cfg["layernorm_epsilon"], max_position_embeddings=cfg["seq_length"],
                    rope_parameters=dict(rope_type="default", rope_theta=10000.0 * cfg.get("rope_ratio", 1),
                                         partial_rotary_factor=0.5),
                    attention_bias=True, tie_word_embeddings=False, pad_token_id=0, eos_token_id=[2])
    mapped = {"model.embed_tokens.weight": state["transformer.embedding.word_embeddings.weight"],
              "model.norm.weight": state["transformer.encoder.final_layernorm.weight"],
              "lm_head.weight": state["transformer.output_layer.weight"]}
    for i in range(cfg["num_layers"]):
        src, dst = f"transformer.encoder.layers.{i}.", f"model.layers.{i}."
        for kind in ("weight", "bias"):
            fused = state[src + "self_attention.query_key_value." + kind]
            mapped[dst + "self_attn.q_proj." + kind] = fused[:q]
            mapped[dst + "self_attn.k_proj." + kind] = fused[q:q + kv]
            mapped[dst + "self_attn.v_proj." + kind] = fused[q + kv:]
        mapped[dst + "self_attn.o_proj.weight"] = state[src + "self_attention.dense.weight"]
        mapped[dst + "mlp.gate_up_proj.weight"] = state[src + "mlp.dense_h_to_4h.weight"]
        mapped[dst + "mlp.down_proj.weight"] = state[src + "mlp.dense_4h_to_h.weight"]
        mapped[dst + "input_layernorm.weight"] = state[src + "input_layernorm.weight"]
        mapped[dst + "post_attention_layernorm.weight"] = state[src + "post_attention_layernorm.weight"]
    model = GlmForCausalLM(glm).eval()
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in mapped.items()}, strict=False)
    print("chatglm via Glm: missing", missing, "unexpected", unexpected)
    result = {"conversations": []}
    for conv in golden["conversations"]:
        ids32 = greedy(model, conv["prompt_ids"], "cpu")[0]
        entry = {"prompt_ids": conv["prompt_ids"], "output_ids": conv["output_ids"],
                 "glm_fp32_matches_reference": ids32 == conv["output_ids"]}
        if torch.cuda.is_available():
            entry["fp16_cuda_ids"] = greedy(model.half().cuda(), conv["prompt_ids"], "cuda")[0]
            model = model.float().cpu()
        result["conversations"].append(entry)
        print(f"chatglm3: Glm fp32 matches THUDM reference: {entry['glm_fp32_matches_reference']},"
              f" fp16 agrees for {agree(entry)} tokens")
    with open(out_file, "w") as f:
        json.dump(result, f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../resources/fixtures"))
    parser.add_argument("--only", nargs="+", help="make only these fixtures (each keeps its own seed)")
    parser.add_argument("--chatglm", help="a ChatGLM3 fixture directory with its -golden.json beside it")
    args = parser.parse_args()
    print("transformers", transformers.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())
    for seed, (name, spec) in enumerate(fixtures().items(), start=10):
        if not args.only or name in args.only:
            make(args.out, name, *spec, seed)
    if args.chatglm:
        chatglm_fp16(args.chatglm, os.path.join(args.out, "chatglm3-fp16-cuda.json"))


if __name__ == "__main__":
    main()
