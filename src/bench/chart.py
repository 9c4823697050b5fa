"""Draws what the load benchmark measured as one SVG (plain text, no plotting library): aggregate output tokens/s
and inter-token latency p50 against concurrency, resident (LoadBenchmark's JSON, over HTTP) beside transformers
(transformers_bench.py's streams, one static batch per concurrency).

    python3 src/bench/chart.py --resident load.json --transformers hf.json --out docs/load.svg [--title TEXT]
"""

import argparse
import json
import math
from xml.sax.saxutils import escape

COLORS = {"resident": "#1f77b4", "transformers": "#ff7f0e"}
PANEL_W, PANEL_H, MARGIN_L, MARGIN_T, MARGIN_B, GAP = 360, 240, 64, 56, 48, 80


def series(resident_path, transformers_path):
    """{panel: {library: [(concurrency, value)]}} for the two panels."""
    r = json.load(open(resident_path))
    h = json.load(open(transformers_path))
    levels = sorted(r["levels"], key=lambda l: l["concurrency"])
    streams = sorted(((int(n), row) for n, row in h["streams"].items()), key=lambda x: x[0])
    return r, h, {
        "output tokens/s": {"resident": [(l["concurrency"], l["output_tokens_per_s"]) for l in levels],
                            "transformers": [(n, row["tokens_per_s"]) for n, row in streams]},
        "inter-token latency p50, ms": {"resident": [(l["concurrency"], l["itl_ms"]["p50"]) for l in levels],
                                        "transformers": [(n, row["itl_ms"]) for n, row in streams]},
    }


def axis(value):
    """A round step (1, 2 or 5 x 10^k) giving at most 5 intervals up to value, and the top it reaches."""
    raw = max(value, 1e-9) / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step, step * math.ceil(value / step)


def panel(x0, title, data, concurrencies):
    step, top = axis(max(v for points in data.values() for _, v in points) * 1.05)
    xs = {c: x0 + (i + 0.5) * PANEL_W / len(concurrencies) for i, c in enumerate(concurrencies)}
    y = lambda v: MARGIN_T + PANEL_H * (1 - v / top)
    out = [f'<text x="{x0 + PANEL_W / 2}" y="{MARGIN_T - 12}" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{x0}" y="{MARGIN_T}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>']
    for i in range(round(top / step) + 1):
        v = step * i
        out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for c, x in xs.items():
        out.append(f'<text x="{x:.1f}" y="{MARGIN_T + PANEL_H + 18}" text-anchor="middle">{c}</text>')
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{MARGIN_T + PANEL_H + 38}" text-anchor="middle">concurrent streams</text>')
    for library, points in data.items():
        path = " ".join(f"{xs[c]:.1f},{y(v):.1f}" for c, v in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[library]}" stroke-width="2"/>')
        for c, v in points:
            out.append(f'<circle cx="{xs[c]:.1f}" cy="{y(v):.1f}" r="3.5" fill="{COLORS[library]}"><title>{library}, '
                       f'{c} streams: {v:g}</title></circle>')
    return out


def svg(r, h, panels, title):
    concurrencies = sorted({c for data in panels.values() for points in data.values() for c, _ in points})
    width = MARGIN_L + 2 * PANEL_W + GAP + 20
    height = MARGIN_T + PANEL_H + MARGIN_B + 60
    model = r["served_model"]
    notes = [f"resident over HTTP: {model.get('id')} ({model.get('dtype')}, {model.get('device')}), prompts of "
             f"{r['prompt_tokens']} tokens, replies of {r['max_tokens']}, temperature {r['temperature']}",
             f"transformers: {h['library']}, {h['dtype']}, {h['device']}, one static batch per concurrency"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (name, data) in enumerate(panels.items()):
        out += panel(MARGIN_L + i * (PANEL_W + GAP), name, data, concurrencies)
    legend_y = height - 40
    for i, library in enumerate(COLORS):
        x = MARGIN_L + i * 140
        out.append(f'<line x1="{x}" x2="{x + 24}" y1="{legend_y}" y2="{legend_y}" stroke="{COLORS[library]}" stroke-width="2"/>')
        out.append(f'<text x="{x + 30}" y="{legend_y + 4}">{library}</text>')
    for i, note in enumerate(notes):
        out.append(f'<text x="{MARGIN_L}" y="{height - 20 + 13 * i}" font-size="10" fill="#555">{escape(note)}</text>')
    return "\n".join(out + ["</svg>"]) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--resident", required=True, help="LoadBenchmark's JSON")
    p.add_argument("--transformers", required=True, help="transformers_bench.py's JSON with streams")
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="Concurrent streams: resident and transformers")
    a = p.parse_args()
    r, h, panels = series(a.resident, a.transformers)
    open(a.out, "w").write(svg(r, h, panels, a.title))
    print(f"{a.out}: {', '.join(panels)} at {sorted({c for c, _ in panels['output tokens/s']['resident']})} streams")


if __name__ == "__main__":
    main()
