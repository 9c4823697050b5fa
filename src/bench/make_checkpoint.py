"""Writes a checkpoint of a benchmark shape with random weights, laid out as the real one (safetensors shards, their
index, config.json) with a tokenizer that covers its vocabulary, so that streamed replies are text: Qwen3's real
tokenizer for the Qwen2.5 shapes, Llama 3.1's for Llama-3.1-8B (the models' own vocabularies, rounded up as theirs
are), and for ChatGLM3-6B a SentencePiece model of ChatGLM3's size (64,789 pieces, its 9 special tokens after them)
trained as the test fixtures' small one is. Before writing, it checks that every id below the tokenizer's size
decodes to text: in tokenizer.json every id, special tokens included; in ChatGLM3's every piece but unk, bos, eos and
the bytes of multi-byte characters (its special tokens show no text in a reply).

    python3 src/bench/make_checkpoint.py --shape chatglm3-6b --out DIR
    python3 src/bench/make_checkpoint.py --shape qwen2.5-7b --tokenizer target/npm/qwen3/package/models --out DIR
    python3 src/bench/make_checkpoint.py --glm-tokenizer DIR     # trains the ChatGLM3 tokenizer (needs sentencepiece)

In the GPU bundle (src/bench/bundle.sh) the tokenizers lie in bench/tokenizers/{chatglm3,qwen3,llama3_1}, the
defaults, and the shapes in bench/classes/io/resident/bench.
"""

import argparse
import json
import math
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = next((d for d in (os.path.join(HERE, "classes", "io", "resident", "bench"),
                           os.path.join(HERE, "..", "test", "resources", "io", "resident", "bench")) if os.path.isdir(d)), None)
TOKENIZERS = {"chatglm": "chatglm3", "qwen2": "qwen3", "llama": "llama3_1"}
SHARD_BYTES = 4 << 30
GLM_SHARDS = 7  # THUDM's layout
# ChatGLM3's SentencePiece vocabulary; its special tokens are numbered after it
GLM_PIECES = 64789
GLM_SPECIALS = 9


def glm_tensors(cfg):
    h, f, v = cfg["hidden_size"], cfg["ffn_hidden_size"], cfg["padded_vocab_size"]
    qkv = (cfg["num_attention_heads"] + 2 * cfg["multi_query_group_num"]) * cfg["kv_channels"]
    yield "transformer.embedding.word_embeddings.weight", (v, h)
    for i in range(cfg["num_layers"]):
        p = f"transformer.encoder.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attention.query_key_value.weight", (qkv, h)
        yield p + "self_attention.query_key_value.bias", (qkv,)
        yield p + "self_attention.dense.weight", (h, h)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.dense_h_to_4h.weight", (2 * f, h)
        yield p + "mlp.dense_4h_to_h.weight", (h, f)
    yield "transformer.encoder.final_layernorm.weight", (h,)
    yield "transformer.output_layer.weight", (v, h)


def hf_tensors(cfg):
    """Qwen2's and Llama's names: q/k/v biases for Qwen2, the LM head unless tied to the embedding."""
    h, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d = h // cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"] * d
    yield "model.embed_tokens.weight", (v, h)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        for name, rows in (("q", h), ("k", kv), ("v", kv)):
            yield p + f"self_attn.{name}_proj.weight", (rows, h)
            if cfg["model_type"] == "qwen2":
                yield p + f"self_attn.{name}_proj.bias", (rows,)
        yield p + "self_attn.o_proj.weight", (h, h)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.gate_proj.weight", (f, h)
        yield p + "mlp.up_proj.weight", (f, h)
        yield p + "mlp.down_proj.weight", (h, f)
    yield "model.norm.weight", (h,)
    if not cfg.get("tie_word_embeddings", False):
        yield "lm_head.weight", (v, h)


def glm_tokenizer(out):
    """A BPE SentencePiece model of ChatGLM3's size, trained as the test fixtures' small one on invented words and CJK."""
    sys.path.insert(0, os.path.join(HERE, "..", "test", "python"))
    import make_fixtures
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    syllables = [c + v + e for c in "bcdfghjklmnprstvwxz" for v in "aeiouy" for e in ("", "n", "r", "s", "t", "l", "k")]
    cjk = [chr(c) for c in range(0x4E00, 0x4E00 + 12000)]
    word = lambda: ("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) if rng.random() < 0.7
                    else "".join(rng.choice(cjk) for _ in range(rng.randint(1, 3))))
    lines = [" ".join(word() for _ in range(rng.randint(4, 14))) + rng.choice([".", "?", "!", "。", " 123"])
             for _ in range(100_000)]
    make_fixtures.train_glm_tokenizer(out, lines, GLM_PIECES, character_coverage=1.0)
    check_glm(out, json.load(open(os.path.join(SHAPES, "chatglm3-6b.json")))["padded_vocab_size"])


def check_glm(tokenizer, vocab):
    """Every piece but unk, bos, eos and the bytes of multi-byte characters decodes to text; the specials fit the vocabulary."""
    try:
        import sentencepiece as spm
    except ImportError:
        print("sentencepiece is not installed: the ChatGLM3 tokenizer was checked when it was trained")
        return
    sp = spm.SentencePieceProcessor(model_file=os.path.join(tokenizer, "tokenizer.model"))
    size = sp.get_piece_size() + GLM_SPECIALS
    after = sp.decode([sp.piece_to_id("a")])  # a piece decoded after another, as in a reply ("▁" alone is a space then)
    silent = [i for i in range(3, sp.get_piece_size()) if sp.decode([sp.piece_to_id("a"), i]) == after
              and not (sp.is_byte(i) and int(sp.id_to_piece(i)[3:5], 16) >= 0x80)]
    report(tokenizer, size, vocab, silent, "but unk, bos, eos and the special tokens, which replies never show")


def check_hf(tokenizer, vocab):
    """Every id of tokenizer.json, added tokens included, decodes to text."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(tokenizer, "tokenizer.json"))
    size = tok.get_vocab_size(with_added_tokens=True)
    silent = [i for i in range(size) if not tok.decode([i], skip_special_tokens=False)]
    report(tokenizer, size, vocab, silent, "special tokens included")


def report(tokenizer, size, vocab, silent, which):
    if size > vocab:
        sys.exit(f"{tokenizer}: {size} ids, more than the shape's {vocab} rows")
    if silent:
        sys.exit(f"{tokenizer}: {len(silent)} ids decode to nothing, e.g. {silent[:10]}")
    print(f"{tokenizer}: every one of its {size:,} ids decodes to text ({which}); {vocab - size:,} of the shape's"
          f" {vocab:,} rows are padding past them")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", help="chatglm3-6b, qwen2.5-0.5b, qwen2.5-7b or llama-3.1-8b")
    p.add_argument("--shapes", default=SHAPES, help="folder holding the shapes' config files")
    p.add_argument("--tokenizer", help="the tokenizer's folder (default: the bundle's tokenizers/ for the family)")
    p.add_argument("--out")
    p.add_argument("--device", default=None, help="where to draw the weights (default: cuda when there is one)")
    p.add_argument("--glm-tokenizer", metavar="DIR", help="only train ChatGLM3's tokenizer into DIR")
    a = p.parse_args()
    if a.glm_tokenizer:
        glm_tokenizer(a.glm_tokenizer)
        return
    if not a.shape or not a.out:
        p.error("give --shape and --out (or --glm-tokenizer DIR)")
    cfg = json.load(open(os.path.join(a.shapes, a.shape + ".json")))
    glm = cfg["model_type"] == "chatglm"
    tokenizer = a.tokenizer or os.path.join(HERE, "tokenizers", TOKENIZERS[cfg["model_type"]])
    if glm:
        check_glm(tokenizer, cfg["padded_vocab_size"])
    else:
        check_hf(tokenizer, cfg["vocab_size"])

    import torch
    from safetensors.torch import save_file
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}[cfg.get("torch_dtype", "float16")]
    entries = list(glm_tensors(cfg) if glm else hf_tensors(cfg))
    total = sum(math.prod(s) * 2 for _, s in entries)
    shards = GLM_SHARDS if glm else max(1, math.ceil(total / SHARD_BYTES))
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator(device=device).manual_seed(7)
    shard, shard_bytes, weight_map, index = {}, 0, {}, 1

    def flush():
        nonlocal shard, shard_bytes, index
        name = f"model-{index:05d}-of-{shards:05d}.safetensors"
        save_file(shard, os.path.join(a.out, name), metadata={"format": "pt"})
        weight_map.update({k: name for k in shard})
        shard, shard_bytes, index = {}, 0, index + 1

    for name, shape in entries:
        if "norm" in name:
            t = torch.ones(shape, dtype=dtype)
        else:
            t = (torch.randn(shape, generator=g, device=device) * 0.02).to(dtype).cpu()
        shard[name] = t
        shard_bytes += t.numel() * 2
        if shard_bytes >= total / shards and index < shards:
            flush()
    flush()
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    for f in ("tokenizer.model", "tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(tokenizer, f)):
            shutil.copy(os.path.join(tokenizer, f), a.out)
    print(f"{a.out}: {len(entries)} tensors, {total / 1e9:.2f} GB in {shards} shards, tokenizer of {tokenizer}")


if __name__ == "__main__":
    main()
