#!/usr/bin/env python3
"""Reads <dir>/<run>/metrics.jsonl for every run and writes <docs>/convergence.svg (validation perplexity per
epoch, one line per run) and <docs>/convergence.md (the same as a table, plus seconds per epoch).
Plain SVG, no plotting library needed.   Usage: plot_convergence.py RUNS_DIR DOCS_DIR"""
import json
import os
import sys

LABELS = {"w1": "W=1", "w2": "W=2, average every epoch", "w4": "W=4, average every epoch",
          "w2-sync10": "W=2, average every 10 batches", "w2-sync1": "W=2, average every batch"}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def load(runs_dir):
    runs = {}
    for name in LABELS:
        f = os.path.join(runs_dir, name, "metrics.jsonl")
        if os.path.exists(f):
            runs[name] = [json.loads(l) for l in open(f) if l.strip()]
    return runs


def svg(runs):
    w, h, left, right, top, bottom = 720, 420, 60, 250, 20, 50
    epochs = max(len(v) for v in runs.values())
    ys = [m["valid_perplexity"] for v in runs.values() for m in v]
    lo, hi = min(ys) * 0.95, max(ys) * 1.02
    px = lambda e: left + (e - 1) / max(1, epochs - 1) * (w - left - right)
    py = lambda y: top + (hi - y) / (hi - lo) * (h - top - bottom)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>']
    for i in range(6):
        y = lo + (hi - lo) * i / 5
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, w - right, py(y), py(y)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (left - 5, py(y) + 4, y))
    for e in range(1, epochs + 1):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (px(e), h - bottom + 18, e))
    out.append('<text x="%d" y="%d" text-anchor="middle">epoch</text>' % ((left + w - right) / 2, h - 10))
    out.append('<text x="15" y="%d" transform="rotate(-90 15 %d)" text-anchor="middle">validation perplexity</text>'
               % ((top + h - bottom) / 2, (top + h - bottom) / 2))
    for i, (name, ms) in enumerate(runs.items()):
        c = COLORS[i % len(COLORS)]
        pts = " ".join("%.1f,%.1f" % (px(m["epoch"]), py(m["valid_perplexity"])) for m in ms)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, pts))
        ly = top + 20 + 22 * i
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (w - right + 15, w - right + 40, ly, ly, c))
        out.append('<text x="%d" y="%d">%s</text>' % (w - right + 45, ly + 4, LABELS[name]))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def table(runs):
    names = list(runs)
    epochs = max(len(v) for v in runs.values())
    lines = ["| epoch | " + " | ".join(LABELS[n] for n in names) + " |", "|---:|" + "---:|" * len(names)]
    for e in range(epochs):
        cells = ["%.3f" % runs[n][e]["valid_perplexity"] if e < len(runs[n]) else "" for n in names]
        lines.append("| %d | %s |" % (e + 1, " | ".join(cells)))
    secs = ["%.1f" % (sum(m["seconds"] for m in runs[n]) / len(runs[n])) for n in names]
    lines.append("| s/epoch | %s |" % " | ".join(secs))
    return "\n".join(lines) + "\n"


def main():
    runs = load(sys.argv[1])
    if not runs:
        sys.exit("no runs under " + sys.argv[1])
    os.makedirs(sys.argv[2], exist_ok=True)
    open(os.path.join(sys.argv[2], "convergence.svg"), "w").write(svg(runs))
    open(os.path.join(sys.argv[2], "convergence.md"), "w").write(table(runs))
    print(table(runs))


if __name__ == "__main__":
    main()
