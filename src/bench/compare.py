"""Prints resident's figures beside transformers' for the same shapes, with the speed ratio of each row.

    python3 src/bench/compare.py resident-chatglm3-6b.json hf-chatglm3-6b.json [more pairs...]
"""

import json
import sys


def rows(r, h):
    yield "load to ready, s", r["load_to_ready_s"], h["load_to_ready_s"], h["load_to_ready_s"] / r["load_to_ready_s"]
    for (n, a), b in zip(r["time_to_first_token_ms"].items(), h["time_to_first_token_ms"].values()):
        yield f"time to first token, {n}-token prompt, ms", a["ms"], b["ms"], b["ms"] / a["ms"]
    for n, a in r["decode_ms_per_step"].items():
        b = h["decode_ms_per_step"][n]
        yield f"decode step, batch {n}, ms", a["ms"], b["ms"], b["ms"] / a["ms"]
    for n, a in r["streams"].items():
        b = h["streams"][n]
        yield f"{n} concurrent streams, tokens/s", a["tokens_per_s"], b["tokens_per_s"], a["tokens_per_s"] / b["tokens_per_s"]
    gib = 1 << 30
    yield ("peak device memory, GiB", round(r["peak_device_memory_bytes"] / gib, 2),
           round(h["peak_device_memory_bytes"] / gib, 2), None)


def main(paths):
    for resident_path, hf_path in zip(paths[::2], paths[1::2]):
        r, h = json.load(open(resident_path)), json.load(open(hf_path))
        print(f"\n{r['model']}: resident ({r['device']}) vs {h['library']} ({h['device']}, {h['attention']})\n")
        print("| measure | resident | transformers | resident speed-up |\n| --- | --- | --- | --- |")
        for name, a, b, ratio in rows(r, h):
            print(f"| {name} | {a} | {b} | {'' if ratio is None else f'{ratio:.2f}x'} |")


if __name__ == "__main__":
    main(sys.argv[1:])
