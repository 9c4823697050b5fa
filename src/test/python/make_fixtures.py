"""Tiny random-weight checkpoints of every family, with Hugging Face transformers' outputs as the reference.

Writes src/test/resources/fixtures/<name>/ (safetensors, config.json, generation_config.json, golden.json).
golden.json holds, per prompt: 32 greedy ids and the first steps' logits computed by transformers in float32
on the CPU from the saved weights, and the greedy ids of transformers in float16 on CUDA when a GPU is there.
A bf16 fixture gets transformers' bf16 ids on the CPU too (bf16_ids), and on CUDA when a GPU is there.
The massive bf16 fixture's prompts are drawn until its bf16 greedy path on the CPU is decisive (DECISIVE_SPACINGS).
A ChatGLM3 directory given with --chatglm gets its float16 CUDA ids too, through transformers' Glm classes.

    python3 src/test/python/make_fixtures.py [--out DIR] [--only NAME ...] [--chatglm DIR]
    python3 src/test/python/make_fixtures.py --cuda-ids   # on a GPU host: adds the CUDA ids to the fixtures as they are
"""

import argparse
import json
import math
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
# the massive bf16 reference leads by this many bf16 spacings at every greedy step: another summation order (sdpa) moves gaps by 3
DECISIVE_SPACINGS = 8


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
    """Greedy ids, logits of the first steps and each step's top two logits; full recompute each step."""
    ids = torch.tensor([prompt], device=device)
    out, logits, tops = [], [], []
    with torch.no_grad():
        for step in range(STEPS):
            row = model(input_ids=ids).logits[0, -1].float().cpu()
            tops.append(torch.topk(row, 2).values.tolist())
            if step < LOGIT_STEPS:
                logits.append([round(v, 6) for v in row.tolist()])
            nxt = int(row.argmax())
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]], device=device)], dim=1)
    return out, logits, tops


def min_gap(tops):
    return min(first - second for first, second in tops)


def min_spacings(tops):
    """The smallest top-1/top-2 gap in bf16 spacings at the top logit (8 significant bits: 2^(exponent - 8))."""
    return min((first - second) / 2.0 ** (math.frexp(first)[1] - 8) for first, second in tops)


def decisive(model, draw, n):
    """The first prompt of n tokens from draw whose greedy path on the CPU leads by DECISIVE_SPACINGS at every step."""
    for _ in range(1000):
        prompt = draw(n)
        if min_spacings(greedy(model, prompt, "cpu")[2]) >= DECISIVE_SPACINGS:
            return prompt
    raise AssertionError(f"no decisive {n}-token prompt in 1,000 draws")


def cuda_references(path, bf16):
    """transformers on CUDA from a fixture's files, by golden.json key: float16, and bfloat16 for a bf16 fixture."""
    torch.backends.cuda.matmul.allow_tf32 = False
    load = lambda dt, attn: AutoModelForCausalLM.from_pretrained(path, dtype=dt, attn_implementation=attn).cuda().eval()
    models = {"fp16_cuda_ids": load(torch.float16, "eager")}
    if bf16:
        # attention as transformers runs it by default on a GPU (fused, probabilities kept in float32)
        models["bf16_cuda_ids"] = load(torch.bfloat16, "sdpa")
    return models


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
    bf16 = load(torch.bfloat16).eval() if dtype == torch.bfloat16 else None
    cuda = cuda_references(path, bf16 is not None) if torch.cuda.is_available() else {}
    g = torch.Generator().manual_seed(seed + 1)
    draw = lambda n: torch.randint(7, config.vocab_size, (n,), generator=g).tolist()
    prompts = [decisive(bf16, draw, n) if name in MASSIVE else draw(n) for n in (9, 21)]
    golden = {"transformers": transformers.__version__, "torch": torch.__version__, "prompts": []}
    spacings = []
    for i, prompt in enumerate(prompts):
        ids, logits, tops = greedy(ref, prompt, "cpu")
        entry = {"prompt_ids": prompt, "output_ids": ids, "min_gap": min_gap(tops)}
        if i == 0:
            entry["logits_first_steps"] = logits
        for key, model in cuda.items():
            entry[key] = greedy(model, prompt, "cuda")[0]
        if bf16 is not None:
            entry["bf16_ids"], _, tops = greedy(bf16, prompt, "cpu")
            entry["bf16_min_gap"] = min_gap(tops)
            spacings.append(min_spacings(tops))
        if name in MASSIVE:
            entry["largest_hidden"] = largest_hidden(bf16, prompt)
            assert entry["largest_hidden"] > FLOAT16_MAX, f"{name}: hidden states stay within float16's range"
        golden["prompts"].append(entry)
    with open(os.path.join(path, "golden.json"), "w") as f:
        json.dump(golden, f)
    sizes = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    print(f"{name}: {sizes // 1024} KB, min gaps {[round(p['min_gap'], 4) for p in golden['prompts']]},"
          f" bf16 min gaps in spacings {spacings}, fp16 agrees for {[agree(p) for p in golden['prompts']]} tokens")


def agree(entry):
    half = entry.get("fp16_cuda_ids") or []
    return next((i for i, (a, b) in enumerate(zip(entry["output_ids"], half)) if a != b), len(half))


# ChatGLM3's special tokens, numbered after the SentencePiece vocabulary as THUDM's tokenizer numbers them
GLM_SPECIAL = ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
GLM_SP_VOCAB = 1000
GLM_WORDS = ("the model keeps one chat session resident on a device and serves many people at once with a queue"
             " of requests tokens are streamed back as text while the cache holds keys and values for every slot"
             " hello world python file read write list string number token reply answer question memory window"
             " system user assistant function tool call weather today tomorrow explain simple example code test").split()
GLM_CHINESE = ("你好 世界 模型 中文 文本 数字 问题 回答 助手 用户 系统 今天 明天 天气 文件 读取 写入 代码 简单 例子"
               " 人工智能 机器 学习 记忆 会话 服务 显存 请求 队列 故事 从前 有 一座 山 我 你 他 是 的 了 在 和 混合").split()
GLM_VECTORS = ["你好", "Hello world", "\n", "  two  spaces", "emoji 👋🙂 and 中文混合 text", "数字1234567890", "tab\there",
               "<|user|> is plain text here", "Ünïcödé ß"]
GLM_CONVERSATIONS = [
    [{"role": "user", "content": "你好"}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "How do I read a CSV file in Python?"}],
    [{"role": "user", "content": "讲一个故事"}, {"role": "assistant", "content": "从前有一座山。"},
     {"role": "user", "content": "Explain it like I'm five 🙂"}],
]


def glm_tokenizer(path, seed):
    """A 1,000-piece BPE SentencePiece model trained as ChatGLM3's was (byte fallback, digits split, no normalization)."""
    import random
    rng = random.Random(seed)
    syllable = lambda: rng.choice("bcdfghklmnprstvwz") + rng.choice("aeiou") + rng.choice(["", "n", "r", "s", "t"])
    invented = ["".join(syllable() for _ in range(rng.randint(1, 3))) for _ in range(300)]  # enough distinct pieces
    lines = []
    for _ in range(4000):
        words = [rng.choice(GLM_WORDS + invented if rng.random() < 0.6 else GLM_CHINESE) for _ in range(rng.randint(3, 12))]
        lines.append(" ".join(words) + rng.choice([".", "?", "!", "。", "？", "，", " " + str(rng.randint(0, 99999))]))
    return train_glm_tokenizer(path, lines, GLM_SP_VOCAB, character_coverage=0.9995)


def train_glm_tokenizer(path, lines, pieces, character_coverage):
    """tokenizer.model and tokenizer_config.json in path, trained on lines with ChatGLM3's settings; the processor."""
    import sentencepiece as spm
    corpus = os.path.join(path, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("\n".join(lines) + "\n")
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(path, "tokenizer"), model_type="bpe",
                                   vocab_size=pieces, character_coverage=character_coverage, split_digits=True,
                                   allow_whitespace_only_pieces=True, hard_vocab_limit=True, byte_fallback=True,
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=-1, normalization_rule_name="identity",
                                   add_dummy_prefix=True, remove_extra_whitespaces=False, num_threads=1,
                                   minloglevel=2)
    for leftover in ("corpus.txt", "tokenizer.vocab"):
        os.remove(os.path.join(path, leftover))
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"remove_space": False, "do_lower_case": False, "tokenizer_class": "ChatGLMTokenizer"}, f, indent=2)
    return spm.SentencePieceProcessor(model_file=os.path.join(path, "tokenizer.model"))


def glm_chat_ids(sp, messages):
    """build_chat_input's ids: [gMASK] sop, per message its role token, the empty metadata line and its content."""
    ids = [GLM_SP_VOCAB + GLM_SPECIAL.index("[gMASK]"), GLM_SP_VOCAB + GLM_SPECIAL.index("sop")]
    for m in messages:
        ids += [GLM_SP_VOCAB + GLM_SPECIAL.index(f"<|{m['role']}|>")] + sp.encode("\n") + sp.encode(m["content"])
    return ids + [GLM_SP_VOCAB + GLM_SPECIAL.index("<|assistant|>")]


def glm_config(heads, head_dim, groups, hidden, ffn, layers, vocab):
    """config.json as THUDM's chatglm3-6b writes it, at the fixture's size."""
    return {"model_type": "chatglm", "architectures": ["ChatGLMModel"], "add_bias_linear": False, "add_qkv_bias": True,
            "apply_query_key_layer_scaling": True, "apply_residual_connection_post_layernorm": False,
            "attention_dropout": 0.0, "attention_softmax_in_fp32": True, "bias_dropout_fusion": True,
            "ffn_hidden_size": ffn, "fp32_residual_connection": False, "hidden_dropout": 0.0, "hidden_size": hidden,
            "kv_channels": head_dim, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
            "multi_query_group_num": groups, "num_attention_heads": heads, "num_layers": layers, "original_rope": True,
            "padded_vocab_size": vocab, "post_layer_norm": True, "rmsnorm": True, "seq_length": 8192,
            "use_cache": True, "torch_dtype": "float16", "tie_word_embeddings": False, "eos_token_id": 2,
            "pad_token_id": 0}


def glm_reference(cfg, state):
    """ChatGLM3 weights mapped onto transformers' Glm, which computes the same function (see the ChatGLM notes)."""
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
    model.load_state_dict({k: v.float() for k, v in mapped.items()}, strict=True)
    return model


def glm_weights(cfg, seed):
    """Random weights under THUDM's names in two shards, scaled so that logits spread over several units."""
    g = torch.Generator().manual_seed(seed)
    h, qkv = cfg["hidden_size"], (cfg["num_attention_heads"] + 2 * cfg["multi_query_group_num"]) * cfg["kv_channels"]
    noise = lambda *shape: torch.randn(shape, generator=g)
    linear = lambda rows, cols: 2.5 * noise(rows, cols) / cols ** 0.5
    shards = [{"transformer.embedding.word_embeddings.weight": noise(cfg["padded_vocab_size"], h),
               "transformer.encoder.final_layernorm.weight": 1 + 0.1 * noise(h)}, {}]
    for i in range(cfg["num_layers"]):
        p = f"transformer.encoder.layers.{i}."
        shards[i].update({p + "input_layernorm.weight": 1 + 0.1 * noise(h),
                          p + "self_attention.query_key_value.weight": linear(qkv, h),
                          p + "self_attention.query_key_value.bias": 0.2 * noise(qkv),
                          p + "self_attention.dense.weight": linear(h, h),
                          p + "post_attention_layernorm.weight": 1 + 0.1 * noise(h),
                          p + "mlp.dense_h_to_4h.weight": linear(2 * cfg["ffn_hidden_size"], h),
                          p + "mlp.dense_4h_to_h.weight": linear(h, cfg["ffn_hidden_size"])})
    rotary = cfg["kv_channels"] // 2
    shards[1]["transformer.output_layer.weight"] = linear(cfg["padded_vocab_size"], h)
    # stored and never read, as in THUDM's checkpoints
    shards[1]["transformer.rotary_pos_emb.inv_freq"] = 1.0 / 10000 ** (torch.arange(0, rotary, 2).float() / rotary)
    return shards


def make_chatglm(out_dir, name, corpus_seed, weight_seed):
    """ChatGLM3's shape and file layout (fused QKV with bias, 2 KV groups, two shards, tokenizer.model); golden.json
    holds the tokenizer's vectors and, per conversation, build_chat_input's ids, 32 greedy ids and the first steps'
    logits of transformers' Glm in float32, and its float16 CUDA ids when a GPU is there."""
    from safetensors.torch import save_file
    path = os.path.join(out_dir, name)
    os.makedirs(path, exist_ok=True)
    sp = glm_tokenizer(path, corpus_seed)
    assert sp.get_piece_size() == GLM_SP_VOCAB
    cfg = glm_config(heads=4, head_dim=16, groups=2, hidden=64, ffn=96, layers=2, vocab=1024)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    shards = glm_weights(cfg, weight_seed)
    weight_map, state = {}, {}
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        half = {k: v.half().contiguous() for k, v in sorted(shard.items())}
        save_file(half, os.path.join(path, file), metadata={"format": "pt"})
        weight_map.update({k: file for k in half})
        state.update(half)
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.numel() * 2 for v in state.values())},
                   "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)

    special = {t: GLM_SP_VOCAB + i for i, t in enumerate(GLM_SPECIAL)}
    stops = [2, special["<|user|>"], special["<|observation|>"]]
    ref = glm_reference(cfg, state)
    golden = {"transformers": transformers.__version__, "torch": torch.__version__, "seed": weight_seed,
              "sentencepiece_vocab_size": GLM_SP_VOCAB, "special_token_ids": special, "stop_ids": stops,
              "tokenizer_vectors": [{"text": t, "ids": sp.encode(t), "decoded": sp.decode(sp.encode(t))}
                                    for t in GLM_VECTORS],
              "conversations": []}
    for i, messages in enumerate(GLM_CONVERSATIONS):
        prompt = glm_chat_ids(sp, messages)
        ids, logits, tops = greedy(ref, prompt, "cpu")
        stop = next((n for n, t in enumerate(ids) if t in stops), None)
        ids = ids if stop is None else ids[:stop + 1]
        entry = {"messages": messages, "prompt_ids": prompt, "output_ids": ids,
                 "raw_text": sp.decode([t for t in ids if 2 < t < GLM_SP_VOCAB]),
                 "finish_reason": "length" if stop is None else "stop", "min_gap": min_gap(tops)}
        if i == 0:
            entry["logits_first_steps"] = logits
        if torch.cuda.is_available():
            torch.backends.cuda.matmul.allow_tf32 = False
            entry["fp16_cuda_ids"] = greedy(ref.half().cuda(), prompt, "cuda")[0]
            ref = ref.float().cpu()
        golden["conversations"].append(entry)
    with open(os.path.join(path, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False)
    sizes = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    print(f"{name}: {sizes // 1024} KB, min gaps {[round(c['min_gap'], 4) for c in golden['conversations']]},"
          f" finish {[c['finish_reason'] for c in golden['conversations']]},"
          f" fp16 agrees for {[agree(c) for c in golden['conversations']]} tokens")


def add_cuda_ids(out_dir):
    """Adds transformers' CUDA ids to the fixtures as they are (weights untouched): float16 ids to each, bfloat16 ids
    to a bf16 one, for a GPU check that compares like with like."""
    from safetensors.torch import load_file
    torch.backends.cuda.matmul.allow_tf32 = False
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name)
        if not os.path.exists(os.path.join(path, "golden.json")):
            continue
        with open(os.path.join(path, "golden.json")) as f:
            golden = json.load(f)
        entries = golden.get("prompts") or golden["conversations"]
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        if "conversations" in golden:
            state = {}
            for file in sorted(os.listdir(path)):
                if file.endswith(".safetensors"):
                    state.update(load_file(os.path.join(path, file)))
            models = {"fp16_cuda_ids": glm_reference(config, state).half().cuda()}
        else:
            models = cuda_references(path, config.get("dtype", config.get("torch_dtype")) == "bfloat16")
        for key, model in models.items():
            for entry in entries:
                entry[key] = greedy(model, entry["prompt_ids"], "cuda")[0]
        with open(os.path.join(path, "golden.json"), "w") as f:
            json.dump(golden, f, ensure_ascii=False)
        print(f"{name}: {sorted(models)} added")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../resources/fixtures"))
    parser.add_argument("--only", nargs="+", help="make only these fixtures (each keeps its own seed)")
    parser.add_argument("--cuda-ids", action="store_true", help="add transformers' CUDA ids to the fixtures in --out")
    args = parser.parse_args()
    if args.cuda_ids:
        add_cuda_ids(args.out)
        return
    print("transformers", transformers.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())
    for seed, (name, spec) in enumerate(fixtures().items(), start=10):
        if not args.only or name in args.only:
            make(args.out, name, *spec, seed)
    if not args.only or "chatglm3-6b-tiny" in args.only:
        # weights whose greedy replies run to 32 tokens with clear top-1 gaps and a first step flat enough for top_p tests
        make_chatglm(args.out, "chatglm3-6b-tiny", corpus_seed=1, weight_seed=28)


if __name__ == "__main__":
    main()
