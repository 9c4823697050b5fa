"""Writes a ChatGLM3-6B-shaped checkpoint with random float16 weights, laid out as THUDM's: 7 safetensors shards,
their index, config.json, and the tokenizer files of another ChatGLM3 directory. For timing a real-size load.

    python3 src/bench/make_checkpoint.py --shapes DIR --tokenizer CHATGLM_DIR --out DIR
"""

import argparse
import json
import os
import shutil

import torch
from safetensors.torch import save_file

SHARDS = 7


def tensors(cfg):
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shapes", required=True, help="folder holding chatglm3-6b.json")
    p.add_argument("--tokenizer", required=True, help="a ChatGLM3 directory with tokenizer.model")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    cfg = json.load(open(os.path.join(a.shapes, "chatglm3-6b.json")))
    os.makedirs(a.out, exist_ok=True)
    entries = list(tensors(cfg))
    total = sum(torch.Size(s).numel() * 2 for _, s in entries)
    per_shard, shard, shard_bytes, weight_map = total / SHARDS, {}, 0, {}
    index = 1
    g = torch.Generator(device="cuda").manual_seed(7)

    def flush():
        nonlocal shard, shard_bytes, index
        name = f"model-{index:05d}-of-{SHARDS:05d}.safetensors"
        save_file(shard, os.path.join(a.out, name), metadata={"format": "pt"})
        weight_map.update({k: name for k in shard})
        shard, shard_bytes, index = {}, 0, index + 1

    for name, shape in entries:
        if "norm" in name:
            t = torch.ones(shape, dtype=torch.float16)
        else:
            t = (torch.randn(shape, generator=g, device="cuda") * 0.02).half().cpu()
        shard[name] = t
        shard_bytes += t.numel() * 2
        if shard_bytes >= per_shard and index < SHARDS:
            flush()
    flush()
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    for f in ("tokenizer.model", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.tokenizer, f), a.out)
    print(f"{a.out}: {len(entries)} tensors, {total / 1e9:.2f} GB in {SHARDS} shards")


if __name__ == "__main__":
    main()
