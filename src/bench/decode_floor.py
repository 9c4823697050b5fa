"""The GPU time of one decode step's weight reads, with launch overhead removed: every layer's projections
(q/k/v, output, gate/up, down) and the LM head as fp16 matrix-vector products of the shape's sizes, captured
once in a CUDA graph and replayed. What a decode step costs the GPU when nothing else is in the way.

    python3 src/bench/decode_floor.py --shapes DIR --shape chatglm3-6b [--batch 1]
"""

import argparse
import json
import os

import torch


def sizes(cfg):
    if cfg["model_type"] == "chatglm":
        h, f, layers, v = cfg["hidden_size"], cfg["ffn_hidden_size"], cfg["num_layers"], cfg["padded_vocab_size"]
        q, kv = cfg["num_attention_heads"] * cfg["kv_channels"], cfg["multi_query_group_num"] * cfg["kv_channels"]
    else:
        h, f, layers, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
        d = h // cfg["num_attention_heads"]
        q, kv = cfg["num_attention_heads"] * d, cfg["num_key_value_heads"] * d
    per_layer = [(q + 2 * kv, h), (h, q), (2 * f, h), (h, f)]
    return per_layer * layers + [(v, h)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shapes", required=True)
    p.add_argument("--shape", required=True)
    p.add_argument("--batch", type=int, default=1)
    a = p.parse_args()
    cfg = json.load(open(os.path.join(a.shapes, a.shape + ".json")))
    weights = [torch.randn(o, i, device="cuda", dtype=torch.float16) * 0.02 for o, i in sizes(cfg)]
    inputs = [torch.randn(a.batch, w.shape[1], device="cuda", dtype=torch.float16) for w in weights]
    step = lambda: [torch.nn.functional.linear(x, w) for x, w in zip(inputs, weights)]
    step()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    for _ in range(3):
        graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    ms = start.elapsed_time(end) / 20
    gb = sum(w.numel() for w in weights) * 2 / 1e9
    print(f"{a.shape}: {len(weights)} matrix products reading {gb:.2f} GB of weights, batch {a.batch}: "
          f"{ms:.2f} ms per step in a CUDA graph ({gb / ms:.2f} TB/s)")


if __name__ == "__main__":
    main()
