#!/usr/bin/env python3
"""The scale study's report (tools/scale.sh): time to quality on a simulated cluster of W one-core executors.

    scale_report.py RUNS_DIR COSTS_JSONL DOCS_DIR

RUNS_DIR/<run>/metrics.jsonl are SeqSpark runs in Spark local mode; for each epoch they give the validation
perplexity, the rounds, and slowest_task_seconds: Σ over the rounds of the slowest shard's training time, what the
epoch's training takes on W executors training side by side. COSTS_JSONL (tools/round_cost.sh) are rounds measured
on a standalone cluster of W executors; from them the round-cost model

    t(W, P) = a + b·W + c·W·P / 1e6      seconds, P parameters (a least-squares fit)

plus a network term for a 10 Gb/s link at the driver: the round's broadcast and its W results, 4·P·(W + 1) bytes.
A SeqSpark epoch on W one-core executors then takes slowest_task_seconds + rounds · (t(W, P) + net(W, P)).

PyTorch DDP (what Spark's TorchDistributor runs) at W is simulated the same way: its maths is one worker's with a
global batch of 32·W and the learning rate scaled by W (runs ddp-w<W>), and each of its steps takes one batch of 32
on one core (from run w1) plus a ring all-reduce of the gradient: 2·(W − 1)/W · 4·P bytes at 10 Gb/s and
2·(W − 1) messages of 50 µs.

Time to quality: the simulated wall time until the validation perplexity first reaches 1.02 × W=1's final one,
interpolated within the epoch that crosses it (log perplexity linear in time). Validation itself is not counted
(it is measurement, the same for every run). Writes DOCS_DIR/scale.md and DOCS_DIR/scale-seconds.svg.
"""
import json
import math
import os
import sys

BANDWIDTH = 10e9 / 8          # bytes per second at the driver
LATENCY = 50e-6               # seconds per all-reduce message
ROUND_TOKENS = 32 * 35        # tokens of one batch of the recipe


def epochs(runs, name):
    f = os.path.join(runs, name, "metrics.jsonl")
    if not os.path.exists(f):
        return None
    return [json.loads(l) for l in open(f) if l.strip()]


def parameters(runs, name):
    c = json.load(open(os.path.join(runs, name, "config.json")))
    v, h = c["vocab_size"], c["hidden_size"]
    return 3 * h * (v + h) + 6 * h + h * v + v


def fit(costs):
    """Least squares of overhead seconds per round on [1, W, W·P/1e6]."""
    rows = [(1.0, r["workers"], r["workers"] * r["parameters"] / 1e6, r["overhead_ms_per_round"] / 1000) for r in costs]
    n = 3
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    atb = [sum(r[i] * r[3] for r in rows) for i in range(n)]
    for i in range(n):                      # Gauss-Jordan on the 3×3 normal equations
        p = max(range(i, n), key=lambda k: abs(ata[k][i]))
        ata[i], ata[p], atb[i], atb[p] = ata[p], ata[i], atb[p], atb[i]
        for k in range(n):
            if k != i and ata[i][i] != 0:
                f = ata[k][i] / ata[i][i]
                ata[k] = [a - f * b for a, b in zip(ata[k], ata[i])]
                atb[k] -= f * atb[i]
    coef = [atb[i] / ata[i][i] for i in range(n)]
    return [max(0.0, c) for c in coef]


def round_cost(coef, w, p):
    return coef[0] + coef[1] * w + coef[2] * w * p / 1e6 + 4 * p * (w + 1) / BANDWIDTH


def allreduce(w, p):
    return 0.0 if w == 1 else 2 * (w - 1) / w * 4 * p / BANDWIDTH + 2 * (w - 1) * LATENCY


def curve_seqspark(ep, coef, w, p):
    """[(epoch, perplexity, simulated seconds at its end)]."""
    t, out = 0.0, []
    for e in ep:
        t += e["slowest_task_seconds"] + (e["rounds"] * round_cost(coef, w, p) if w > 1 else 0.0)
        out.append((e["epoch"], e["valid_perplexity"], t))
    return out


def curve_ddp(ep, batch_seconds, w, p):
    t, out = 0.0, []
    for e in ep:
        steps = e["tokens"] / (ROUND_TOKENS * w)
        t += steps * (batch_seconds + allreduce(w, p))
        out.append((e["epoch"], e["valid_perplexity"], t))
    return out


def time_to(curve, target):
    prev_p, prev_t = None, 0.0
    for _, p, t in curve:
        if p is not None and p <= target:
            if prev_p is None or prev_p <= p:
                return t
            f = (math.log(prev_p) - math.log(target)) / (math.log(prev_p) - math.log(p))
            return prev_t + f * (t - prev_t)
        prev_p, prev_t = p, t
    return None


def svg(curves, target, path):
    width, height, left, top, right, bottom = 760, 440, 70, 20, 250, 50
    pts = [(t, p) for _, c, _ in curves for _, p, t in c if p]
    tmax = max(t for t, _ in pts)
    lo, hi = math.log(min(p for _, p in pts) * 0.97), math.log(max(p for _, p in pts) * 1.03)
    x = lambda t: left + (width - left - right) * math.log10(1 + t) / math.log10(1 + tmax)
    y = lambda p: top + (height - top - bottom) * (hi - math.log(p)) / (hi - lo)
    colors = ["#000000", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
              "#7f7f7f", "#bcbd22", "#aa3377"]
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
         f'font-size="11"><rect width="100%" height="100%" fill="white"/>']
    for tick in [1, 10, 100, 1000, 10000]:
        if tick <= tmax:
            s.append(f'<line x1="{x(tick):.1f}" y1="{top}" x2="{x(tick):.1f}" y2="{height - bottom}" stroke="#ddd"/>'
                     f'<text x="{x(tick):.1f}" y="{height - bottom + 15}" text-anchor="middle">{tick} s</text>')
    for p in [3, 4, 5, 6, 8, 10, 15, 20]:
        if lo <= math.log(p) <= hi:
            s.append(f'<line x1="{left}" y1="{y(p):.1f}" x2="{width - right}" y2="{y(p):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 5}" y="{y(p) + 4:.1f}" text-anchor="end">{p}</text>')
    s.append(f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - right}" y2="{y(target):.1f}" stroke="#888" '
             f'stroke-dasharray="4,3"/><text x="{width - right + 4}" y="{y(target) + 4:.1f}">1.02 × W=1</text>')
    for i, (label, c, dashed) in enumerate(curves):
        col = colors[i % len(colors)]
        d = " ".join(f"{x(t):.1f},{y(p):.1f}" for _, p, t in c if p)
        dash = ' stroke-dasharray="6,3"' if dashed else ""
        s.append(f'<polyline points="{d}" fill="none" stroke="{col}" stroke-width="1.8"{dash}/>')
        s.append(f'<line x1="{width - right + 10}" y1="{top + 14 + 16 * i}" x2="{width - right + 34}" '
                 f'y2="{top + 14 + 16 * i}" stroke="{col}" stroke-width="2"{dash}/>'
                 f'<text x="{width - right + 40}" y="{top + 18 + 16 * i}">{label}</text>')
    s.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">simulated wall seconds '
             f'on W one-core executors (log scale)</text><text x="15" y="{(top + height - bottom) / 2}" '
             f'transform="rotate(-90 15 {(top + height - bottom) / 2})" text-anchor="middle">validation perplexity'
             f'</text></svg>')
    open(path, "w").write("\n".join(s))


def main(runs, costs_file, docs):
    costs = [json.loads(l) for l in open(costs_file) if l.strip()]
    coef = fit(costs)
    base = epochs(runs, "w1")
    p = parameters(runs, "w1")
    target = 1.02 * base[-1]["valid_perplexity"]
    batch_seconds = sum(e["slowest_task_seconds"] for e in base) / (sum(e["tokens"] for e in base) / ROUND_TOKENS)
    names = sorted({d for d in os.listdir(runs) if os.path.exists(os.path.join(runs, d, "metrics.jsonl"))},
                   key=lambda n: (n.startswith("ddp"), int(''.join(ch for ch in n.split("-")[0] if ch.isdigit()) or 0), n))
    rows, curves = [], []
    t1 = time_to(curve_seqspark(base, coef, 1, p), target)
    for name in names:
        ep = epochs(runs, name)
        w = int(''.join(ch for ch in name.split("-")[0] if ch.isdigit()) or 1)
        ddp = name.startswith("ddp")
        c = curve_ddp(ep, batch_seconds, w, p) if ddp else curve_seqspark(ep, coef, w, p)
        t = time_to(c, target)
        rounds = sum(e["rounds"] for e in ep) / len(ep)
        label = (f"PyTorch DDP W={w}" if ddp else f"W={w} {name[len(name.split('-')[0]) + 1:] or 'defaults'}")
        rows.append((label, w, len(ep), ep[-1]["valid_perplexity"], c[-1][2] / len(c), rounds,
                     t, None if t is None or t1 is None else t1 / t))
        curves.append((label, c, ddp))
    svg(curves, target, os.path.join(docs, "scale-seconds.svg"))
    md = ["| run | W | epochs | final valid ppl | simulated s / epoch | rounds / epoch | time to quality (s) | sooner than W=1 |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, w, n, ppl, spe, rounds, t, speed in rows:
        md.append(f"| {label} | {w} | {n} | {ppl:.3f} | {spe:.1f} | {rounds:.0f} | "
                  f"{'not reached' if t is None else f'{t:.0f}'} | {'–' if speed is None else f'{speed:.1f}×'} |")
    model = (f"t(W, P) = {coef[0] * 1000:.1f} ms + {coef[1] * 1000:.2f} ms · W + {coef[2] * 1000:.2f} ms · W · P/10⁶ "
             f"(+ 4·P·(W + 1) bytes at 10 Gb/s)")
    text = ["# Scale study: time to quality on W one-core executors", "",
            f"Generated by `tools/scale.sh` ({os.path.basename(runs)} runs; {len(costs)} measured rounds costs). "
            f"Model: char GRU, {p:,} parameters. Quality bar: 1.02 × W=1's final validation perplexity = "
            f"{target:.3f}. Round-cost model fitted on the standalone cluster: {model}.", "",
            *md, "", "![validation perplexity against simulated wall seconds](scale-seconds.svg)", "",
            "Measured round costs (tools/round_cost.sh):", "", "| W | parameters | ms per round beyond training |",
            "|---:|---:|---:|", *[f"| {c['workers']} | {c['parameters']:,} | {c['overhead_ms_per_round']} |" for c in costs],
            ""]
    open(os.path.join(docs, "scale.md"), "w").write("\n".join(text))
    print("\n".join(md))
    print(model)


if __name__ == "__main__":
    main(*sys.argv[1:4])
