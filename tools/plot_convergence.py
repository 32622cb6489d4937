#!/usr/bin/env python3
"""Reads the runs tools/convergence.sh wrote (RUNS_DIR/<run>/metrics.jsonl for SeqSpark, RUNS_DIR/<run>.jsonl for
PyTorch DDP) and writes DOCS_DIR/convergence.md (validation perplexity per epoch, seconds per epoch, and the wall
time to reach 1.02 x W=1's final perplexity) and two plain-SVG plots of validation perplexity, against epochs
(convergence-epochs.svg) and against wall seconds (convergence-seconds.svg). No plotting library needed.

Wall seconds are the sum of the epochs' own times (training and validation, from the start of epoch 1: JVM,
Spark and corpus start-up excluded), for SeqSpark `seconds` in metrics.jsonl, for DDP its `wall_seconds_total`.

    plot_convergence.py RUNS_DIR DOCS_DIR
"""
import json
import os
import sys

# name → (label, style): solid = the defaults (BMUF), dashed = plain averaging, dotted = PyTorch DDP.
RUNS = [
    ("w1", "W=1", "solid"),
    ("w2-avg-lr1", "W=2, average every epoch, lr 1", "dashed"),
    ("w2-avg-lr2", "W=2, average every epoch, lr 2", "dashed"),
    ("w2", "W=2, defaults (BMUF)", "solid"),
    ("w4-avg-lr1", "W=4, average every epoch, lr 1", "dashed"),
    ("w4-avg-lr4", "W=4, average every epoch, lr 4", "dashed"),
    ("w4", "W=4, defaults (BMUF)", "solid"),
    ("w8-avg-lr1", "W=8, average every epoch, lr 1", "dashed"),
    ("w8-avg-lr8", "W=8, average every epoch, lr 8", "dashed"),
    ("w8", "W=8, defaults (BMUF)", "solid"),
    ("ddp-w1", "PyTorch DDP, W=1", "dotted"),
    ("ddp-w2-lr1", "PyTorch DDP, W=2, lr 1", "dotted"),
    ("ddp-w2-lr2", "PyTorch DDP, W=2, lr 2", "dotted"),
]
SECOND = [("dickens-w1", "W=1", "solid"), ("dickens-w2", "W=2, defaults", "solid"), ("dickens-w4", "W=4, defaults", "solid")]
COLORS = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf", "#000000", "#aa3377", "#228833"]
DASH = {"solid": "", "dashed": ' stroke-dasharray="7,4"', "dotted": ' stroke-dasharray="2,3"'}


def load(runs_dir, name):
    """[(epoch, valid perplexity, wall seconds so far, epoch seconds)] or None."""
    f = os.path.join(runs_dir, name, "metrics.jsonl")
    if os.path.exists(f):
        rows, wall = [], 0.0
        for m in (json.loads(l) for l in open(f) if l.strip()):
            wall += m["seconds"]
            rows.append((m["epoch"], m["valid_perplexity"], wall, m["seconds"]))
        return rows
    f = os.path.join(runs_dir, name + ".jsonl")
    if os.path.exists(f):
        rows = []
        for m in (json.loads(l) for l in open(f) if l.strip()):
            if "epoch" in m and "valid_ppl" in m:
                rows.append((m["epoch"], m["valid_ppl"], m["wall_seconds_total"], m.get("epoch_seconds", 0.0)))
        return rows
    return None


def svg(series, xkey, xlabel):
    w, h, left, right, top, bottom = 860, 460, 60, 290, 20, 50
    xs = [r[xkey] for _, _, _, rows in series for r in rows]
    ys = [r[1] for _, _, _, rows in series for r in rows]
    x0, x1 = (1, max(xs)) if xkey == 0 else (0, max(xs))
    lo, hi = min(ys) * 0.97, min(max(ys), 3 * min(ys)) * 1.02
    px = lambda x: left + (x - x0) / max(1e-9, x1 - x0) * (w - left - right)
    py = lambda y: top + (hi - min(y, hi)) / (hi - lo) * (h - top - bottom)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>']
    for i in range(6):
        y = lo + (hi - lo) * i / 5
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, w - right, py(y), py(y)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (left - 5, py(y) + 4, y))
    for i in range(6):
        x = x0 + (x1 - x0) * i / 5
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px(x), h - bottom + 18,
                                                                          "%d" % round(x)))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % ((left + w - right) / 2, h - 10, xlabel))
    out.append('<text x="15" y="%d" transform="rotate(-90 15 %d)" text-anchor="middle">validation perplexity</text>'
               % ((top + h - bottom) / 2, (top + h - bottom) / 2))
    for i, (name, label, style, rows) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        pts = " ".join("%.1f,%.1f" % (px(r[xkey]), py(r[1])) for r in rows)
        out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (c, DASH[style], pts))
        ly = top + 12 + 20 * i
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                   % (w - right + 12, w - right + 42, ly, ly, c, DASH[style]))
        out.append('<text x="%d" y="%d">%s</text>' % (w - right + 48, ly + 4, label))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def reach(rows, target):
    for epoch, ppl, wall, _ in rows:
        if ppl <= target:
            return "%.0f s (epoch %d)" % (wall, epoch)
    return "not reached"


def table(series, title):
    base = series[0][3]
    target = 1.02 * base[-1][1]
    epochs = max(len(rows) for _, _, _, rows in series)
    lines = ["%s. Target: 1.02 x W=1's final validation perplexity = %.3f." % (title, target), "",
             "| epoch | " + " | ".join(label for _, label, _, _ in series) + " |",
             "|---:|" + "---:|" * len(series)]
    for e in range(epochs):
        cells = ["%.3f" % rows[e][1] if e < len(rows) else "" for _, _, _, rows in series]
        lines.append("| %d | %s |" % (e + 1, " | ".join(cells)))
    lines.append("| s / epoch | %s |" % " | ".join(
        "%.1f" % (sum(r[3] for r in rows) / len(rows)) for _, _, _, rows in series))
    lines.append("| wall to %.3f | %s |" % (target, " | ".join(reach(rows, target) for _, _, _, rows in series)))
    base_wall = next((r[2] for r in base if r[1] <= target), None)
    if base_wall:
        lines.append("| vs W=1's wall | %s |" % " | ".join(
            ("%.2fx" % (next(r[2] for r in rows if r[1] <= target) / base_wall))
            if any(r[1] <= target for r in rows) else "–" for _, _, _, rows in series))
    return "\n".join(lines) + "\n"


def main():
    runs_dir, docs = sys.argv[1], sys.argv[2]
    first = [(n, l, s, load(runs_dir, n)) for n, l, s in RUNS]
    first = [x for x in first if x[3]]
    if not first or first[0][0] != "w1":
        sys.exit("no W=1 run under " + runs_dir)
    second = [x for x in ((n, l, s, load(runs_dir, n)) for n, l, s in SECOND) if x[3]]
    os.makedirs(docs, exist_ok=True)
    open(os.path.join(docs, "convergence-epochs.svg"), "w").write(svg(first, 0, "epoch"))
    open(os.path.join(docs, "convergence-seconds.svg"), "w").write(svg(first, 2, "wall seconds (training and validation)"))
    md = table(first, "Tom Sawyer (the bundled corpus)")
    if second and second[0][0] == "dickens-w1":
        md += "\n" + table(second, "Dickens, The Old Curiosity Shop (not tuned on)")
    open(os.path.join(docs, "convergence.md"), "w").write(md)
    print(md)


if __name__ == "__main__":
    main()
