"""The same measurements as resident's ServingBenchmark, with Hugging Face transformers (fp16, sdpa attention).

Builds the named shapes with random weights on one GPU and reports, as JSON: time to first token for each prompt
length (generate with one new token), the decode step at each batch size (generate of N+1 minus 1 new tokens,
over N), and aggregate tokens/s at each concurrency, which transformers serves as one static batch of that many
prompts (it has no continuous batching): its time to first token, and its inter-token latency (the time after the
first token over the tokens after it), as the load benchmark's chart compares them. ChatGLM3-6B is built as
transformers' Glm, the same function as THUDM's ChatGLM3 code (partial rotary of half the head, MQA groups, q/k/v
bias). On the CPU it computes in float32; --measure picks some of the three measurements.

    python3 src/bench/transformers_bench.py --shape chatglm3-6b --json hf-chatglm3-6b.json
    python3 src/bench/transformers_bench.py --shape demo --device cpu --measure streams --streams 1,2,4,8 --tokens 32
"""

import argparse
import json
import os
import statistics
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, GlmConfig

SHAPES = os.path.join(os.path.dirname(__file__), "..", "test", "resources", "io", "resident", "bench")
STREAM_PROMPT = 128


def config(shapes, shape):
    cfg = json.load(open(os.path.join(shapes, shape + ".json")))
    if cfg["model_type"] == "chatglm":
        return GlmConfig(vocab_size=cfg["padded_vocab_size"], hidden_size=cfg["hidden_size"],
                         intermediate_size=cfg["ffn_hidden_size"], num_hidden_layers=cfg["num_layers"],
                         num_attention_heads=cfg["num_attention_heads"], num_key_value_heads=cfg["multi_query_group_num"],
                         head_dim=cfg["kv_channels"], partial_rotary_factor=0.5, rms_norm_eps=cfg["layernorm_epsilon"],
                         max_position_embeddings=cfg["seq_length"], attention_bias=True, tie_word_embeddings=False,
                         pad_token_id=0, eos_token_id=[2])
    kind = cfg.pop("model_type")
    cfg.pop("architectures", None)
    cfg.pop("torch_dtype", None)
    return AutoConfig.for_model(kind, **cfg)


def sync_time(fn):
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--shapes", default=SHAPES, help="folder of the shapes' config.json files")
    p.add_argument("--prompts", default="128,2048,8192")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--streams", default="1,8,32,64")
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--decode-steps", type=int, default=128)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--measure", default="ttft,decode,streams", help="which of ttft, decode, streams to run")
    p.add_argument("--json")
    a = p.parse_args()
    ints = lambda s: [int(x) for x in s.split(",")]
    measure = a.measure.split(",")
    torch.manual_seed(7)
    cfg = config(a.shapes, a.shape)
    dtype = torch.float16 if a.device == "cuda" else torch.float32
    started = time.perf_counter()
    with torch.device(a.device):
        model = AutoModelForCausalLM.from_config(cfg, dtype=dtype, attn_implementation="sdpa").eval()
    vocab = cfg.vocab_size
    limit = getattr(cfg, "max_position_embeddings", 8192)
    ids = lambda b, n: torch.randint(100, min(vocab, 60000) - 100, (b, n), device=a.device)

    def generate(prompt, new_tokens):
        with torch.no_grad():
            return model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens,
                                  min_new_tokens=new_tokens, do_sample=False, eos_token_id=None, pad_token_id=0)

    generate(ids(1, 8), 1)
    report = {"model": a.shape + " (random weights)", "library": "transformers " + transformers.__version__,
              "torch": torch.__version__, "dtype": str(dtype).removeprefix("torch."),
              "device": torch.cuda.get_device_name(0) if a.device == "cuda" else f"CPU, {torch.get_num_threads()} threads",
              "attention": "sdpa", "parameters": sum(p.numel() for p in model.parameters()),
              "load_to_ready_s": round(time.perf_counter() - started, 2)}
    if a.device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    ttft = {}
    for requested in ints(a.prompts) if "ttft" in measure else []:
        n = min(requested, limit - 1)
        times = [sync_time(lambda: generate(ids(1, n), 1)) * 1e3 for _ in range(3)]
        ms = statistics.median(times)
        ttft[str(n)] = {"ms": round(ms, 2), "prefill_tokens_per_s": round(n / (ms / 1e3), 2)}
    report["time_to_first_token_ms"] = ttft

    decode = {}
    for b in ints(a.batches) if "decode" in measure else []:
        prompt = ids(b, STREAM_PROMPT)
        one = statistics.median(sync_time(lambda: generate(prompt, 1)) for _ in range(2))
        more = statistics.median(sync_time(lambda: generate(prompt, a.decode_steps + 1)) for _ in range(2))
        ms = (more - one) * 1e3 / a.decode_steps
        decode[str(b)] = {"ms": round(ms, 2), "tokens_per_s": round(b * 1e3 / ms, 2)}
    report["decode_ms_per_step"] = decode

    streams = {}
    for n in ints(a.streams) if "streams" in measure else []:
        prompt = ids(n, STREAM_PROMPT)
        first = sync_time(lambda: generate(prompt, 1))
        seconds = sync_time(lambda: generate(prompt, a.tokens))
        streams[str(n)] = {"tokens_per_s": round(n * a.tokens / seconds, 2),
                           "ms_per_token_median": round(seconds * 1e3 / a.tokens, 2),
                           "ttft_ms": round(first * 1e3, 2),
                           "itl_ms": round((seconds - first) * 1e3 / max(1, a.tokens - 1), 2), "generated": n * a.tokens}
    report["streams"] = streams
    if a.device == "cuda":
        report["peak_device_memory_bytes"] = torch.cuda.max_memory_reserved()
    text = json.dumps(report, indent=2)
    if a.json:
        open(a.json, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
