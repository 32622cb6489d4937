#!/usr/bin/env python3
"""The scale study's report (tools/scale.sh): time to quality on a simulated cluster of W one-core executors.

    scale_report.py RUNS_DIR COSTS_JSONL DOCS_DIR
    scale_report.py DOCS_DIR/scale-runs.json COSTS_JSONL|- DOCS_DIR

Both write DOCS_DIR/scale-runs.json: what the report reads of the runs (each epoch's validation perplexity, rounds,
tokens and slowest_task_seconds; the DDP runs' epochs) and the round costs it used, so that the report can be made
again without the runs, e.g. with round costs measured anew ("-": the costs the file holds).

RUNS_DIR/<run>/metrics.jsonl are SeqSpark runs in Spark local mode; for each epoch they give the validation
perplexity, the rounds, and slowest_task_seconds: Σ over the rounds of the slowest shard's training time, what the
epoch's training takes on W executors training side by side. COSTS_JSONL (tools/round_cost.sh) are rounds measured
on a standalone cluster of W executors on this machine, for each way rounds travel (dist.rounds: "stream", one job
an epoch fed through the driver's channel, the default; "jobs", a Spark job a round); from them the round-cost model

    t(W, P) = a + b·W + c·W·P/1e6  (the driver's CPU time per round, a least-squares fit: its Java threads',
                                    without the JIT compiler, which a long run amortizes, and the GC)
            + d                    (a task's own CPU time: with a job a round its deserialization and result, with
                                    the channel its reading and sending; the mean at the smallest W measured, where
                                    executors do not outnumber the cores)
            + bytes at 10 Gb/s     (through the driver's link: with the channel 8·P·W, the round's start to each
                                    task and each task's result; with a job a round 4·P·(W + 1), one broadcast and
                                    the W results)
            + messages of 50 µs    (the channel: 2, the start and the result; a job: 5, launch, task binary,
                                    broadcast location and block, result)

seconds per round, P parameters. A SeqSpark epoch on W one-core executors then takes slowest_task_seconds +
rounds · t(W, P), where an epoch's training is its batches per shard at W=1's measured seconds per batch (one
dedicated core each). Beside it, an upper bound: the training as measured here, W shards sharing two cores with
the driver (slowest_task_seconds), and the wall time beyond training measured on this machine, fitted the same way
(a + b·W + c·W·P/1e6).

PyTorch DDP (what Spark's TorchDistributor runs) at W is simulated the same way: its maths, PyTorch's own trainer
(ddp_charlm.py) in one process with the global batch 32·W and the learning rate scaled by W (RUNS_DIR/ddp-w<W>.jsonl),
and each of its steps takes PyTorch's time for one batch of 32 on one core (RUNS_DIR/ddp-step.jsonl) plus a ring
all-reduce of the gradient: 2·(W − 1)/W · 4·P bytes at 10 Gb/s and 2·(W − 1) messages of 50 µs.

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


EPOCH_FIELDS = ("epoch", "valid_perplexity", "rounds", "tokens", "slowest_task_seconds")
DDP_FIELDS = ("epoch", "valid_ppl", "lr", "batches_per_worker", "epoch_seconds")


def load(runs):
    """The study's runs, as scale-runs.json holds them: {"seqspark": {name: {"epochs", "parameters", "overlap"}},
    "ddp": {name: [epochs]}}, from that file or from RUNS_DIR."""
    if os.path.isfile(runs):
        return json.load(open(runs))
    study = {"seqspark": {}, "ddp": {}}
    for name in sorted(os.listdir(runs)):
        metrics = os.path.join(runs, name, "metrics.jsonl")
        if os.path.exists(metrics):
            ep = [json.loads(l) for l in open(metrics) if l.strip()]
            study["seqspark"][name] = {"epochs": [{k: e[k] for k in EPOCH_FIELDS} for e in ep],
                                       "parameters": parameters(runs, name), "overlap": overlapped(runs, name)}
        elif name.startswith("ddp-") and name.endswith(".jsonl"):
            by_epoch = {e["epoch"]: e for e in (json.loads(l) for l in open(os.path.join(runs, name))
                                                if l.strip() and not l.startswith("#"))}   # a rerun appends
            study["ddp"][name[:-len(".jsonl")]] = [{k: by_epoch[i].get(k) for k in DDP_FIELDS}
                                                   for i in sorted(by_epoch)]
    return study


def parameters(runs, name):
    c = json.load(open(os.path.join(runs, name, "config.json")))
    v, h = c["vocab_size"], c["hidden_size"]
    return 3 * h * (v + h) + 6 * h + h * v + v


def fit(costs, key):
    """Least squares of costs[key] (ms per round) on [1, W, W·P/1e6]; seconds."""
    rows = [(1.0, r["workers"], r["workers"] * r["parameters"] / 1e6, r[key] / 1000) for r in costs]
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


class Model:
    """t(W, P): the round-cost model above (or, with upper=True, the fitted wall time on this machine), for rounds
    measured one way (costs of one mechanism)."""

    def __init__(self, costs, upper=False):
        self.upper = upper
        self.stream = costs[0].get("mechanism", "jobs") == "stream"
        self.messages = 2 if self.stream else 5
        self.coef = fit(costs, "overhead_ms_per_round" if upper else "driver_threads_cpu_ms")
        least = [r for r in costs if r["workers"] == min(c["workers"] for c in costs)]   # the least oversubscribed
        self.task = 0.0 if upper else sum(r["task_cpu_ms"] for r in least) / len(least) / 1000

    def __call__(self, w, p):
        return self.driver(w, p) + self.executor()

    def driver(self, w, p):
        """The part of a round the driver does: its CPU time and the bytes through its link."""
        c = self.coef
        t = c[0] + c[1] * w + c[2] * w * p / 1e6
        return t if self.upper else t + (8 * p * w if self.stream else 4 * p * (w + 1)) / BANDWIDTH

    def executor(self):
        """The part of a round an executor waits for beyond its training: its task's own CPU time and the messages."""
        return 0.0 if self.upper else self.task + self.messages * LATENCY

    def describe(self):
        c = self.coef
        fit_ = f"{c[0] * 1000:.1f} ms + {c[1] * 1000:.2f} ms · W + {c[2] * 1000:.2f} ms · W · P/10⁶"
        link = "8·P·W" if self.stream else "4·P·(W + 1)"
        return fit_ if self.upper else (f"{fit_} + {self.task * 1000:.1f} ms + {link} bytes at 10 Gb/s "
                                        f"+ {self.messages * LATENCY * 1000:.2f} ms")


def allreduce(w, p):
    return 0.0 if w == 1 else 2 * (w - 1) / w * 4 * p / BANDWIDTH + 2 * (w - 1) * LATENCY


def curve_seqspark(ep, model, w, p, batch_seconds=None, overlap=False):
    """[(epoch, perplexity, simulated seconds at its end)]. An epoch's training: its batches per shard at W=1's
    seconds per batch (what a dedicated core takes), or with batch_seconds None, the measured slowest_task_seconds
    (W shards sharing this machine's two cores with the driver: an upper bound). Overlapped rounds (dist.overlap):
    the epoch's first round costs t(W, P) as in turn; every later one lasts the longer of the executors' part (its
    training, a task's own CPU, the messages) and the driver's (its CPU, its link), which run side by side."""
    t, out = 0.0, []
    for e in ep:
        train = e["slowest_task_seconds"] if batch_seconds is None else \
            math.ceil(e["tokens"] / w / ROUND_TOKENS) * batch_seconds
        if w == 1:
            t += train
        elif overlap:
            per = train / e["rounds"]
            t += train + model(w, p) + (e["rounds"] - 1) * (max(per + model.executor(), model.driver(w, p)) - per)
        else:
            t += train + e["rounds"] * model(w, p)
        out.append((e["epoch"], e["valid_perplexity"], t))
    return out


def overlapped(runs, name):
    """Whether a run's rounds overlapped (its checkpoint's dist.overlap)."""
    f = os.path.join(runs, name, "checkpoint.json")
    return os.path.exists(f) and json.load(open(f)).get("settings", {}).get("dist.overlap") == "true"


def curve_ddp(ep, step_seconds, w, p):
    """As curve_seqspark; a perplexity that is not finite or above 1000 (diverged) is None."""
    t, out = 0.0, []
    for e in ep:
        t += e["batches_per_worker"] * (step_seconds + allreduce(w, p))
        ppl = e["valid_ppl"]
        out.append((e["epoch"], ppl if ppl is not None and math.isfinite(ppl) and ppl < 1000 else None, t))
    return out


def workers(name):
    """W of a run named w<W>[-...] or ddp-w<W>."""
    return int("".join(ch for ch in name.removeprefix("ddp-").split("-")[0] if ch.isdigit()) or 1)


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
    study = load(runs)
    every = study["round_costs"] if costs_file == "-" else [json.loads(l) for l in open(costs_file) if l.strip()]
    study["round_costs"] = every
    with open(os.path.join(docs, "scale-runs.json.tmp"), "w") as f:
        json.dump(study, f, indent=1)
    os.replace(os.path.join(docs, "scale-runs.json.tmp"), os.path.join(docs, "scale-runs.json"))
    by_mechanism = {}
    for c in every:
        by_mechanism.setdefault(c.get("mechanism", "jobs"), []).append(c)
    costs = by_mechanism.get("stream") or by_mechanism["jobs"]
    model, upper = Model(costs), Model(costs, upper=True)
    jobs = Model(by_mechanism["jobs"]) if "jobs" in by_mechanism and costs is not by_mechanism["jobs"] else None
    base = study["seqspark"]["w1"]["epochs"]
    p = study["seqspark"]["w1"]["parameters"]
    target = 1.02 * base[-1]["valid_perplexity"]
    batch_seconds = sum(e["slowest_task_seconds"] for e in base) / (sum(e["tokens"] for e in base) / ROUND_TOKENS)
    step = study["ddp"].get("ddp-step")
    step_seconds = step[0]["epoch_seconds"] / step[0]["batches_per_worker"] if step else None
    seq = sorted(study["seqspark"], key=lambda n: (workers(n), n))
    ddp = sorted((n for n in study["ddp"] if n.startswith("ddp-w")), key=lambda n: (workers(n), n)) if step else []
    rows, curves = [], []
    t1 = time_to(curve_seqspark(base, model, 1, p, batch_seconds), target)
    t1u = time_to(curve_seqspark(base, upper, 1, p), target)
    for name in seq + ddp:
        w = workers(name)
        if name.startswith("ddp"):
            ep = study["ddp"][name]
            c = cu = curve_ddp(ep, step_seconds, w, p)
            label, rounds, final = f"PyTorch DDP W={w}, lr {ep[-1]['lr']:g}", ep[-1]["batches_per_worker"], c[-1][1]
        else:
            ep = study["seqspark"][name]["epochs"]
            o = study["seqspark"][name]["overlap"]
            c, cu = curve_seqspark(ep, model, w, p, batch_seconds, o), curve_seqspark(ep, upper, w, p, overlap=o)
            rounds, final = sum(e["rounds"] for e in ep) / len(ep), ep[-1]["valid_perplexity"]
            label = f"W={w} {name[len(name.split('-')[0]) + 1:] or 'defaults'}"
        t, tu = time_to(c, target), time_to(cu, target)
        tj = None if jobs is None or name.startswith("ddp") else \
            time_to(curve_seqspark(ep, jobs, w, p, batch_seconds, o), target)
        if name.startswith("ddp"):
            share = rounds * allreduce(w, p) / (c[-1][2] / len(c))
        else:   # what is not training, of the simulated time
            share = 1 - sum(math.ceil(e["tokens"] / w / ROUND_TOKENS) * batch_seconds for e in ep) / c[-1][2]
        rows.append((label, w, len(ep), final, c[-1][2] / len(c), rounds, share, t,
                     None if t is None or t1 is None else t1 / t, None if tu is None or t1u is None else t1u / tu,
                     None if tj is None or t1 is None else t1 / tj))
        if any(q for _, q, _ in c):
            curves.append((label, [x for x in c if x[1]], name.startswith("ddp")))
    svg(curves, target, os.path.join(docs, "scale-seconds.svg"))
    md = ["| run | W | epochs | final valid ppl | simulated s / epoch | rounds (DDP: steps) / epoch | their share "
          "| time to quality (s) | sooner than W=1 | sooner, this machine's round costs "
          + ("| sooner, a job a round |" if jobs else "|"),
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if jobs else "")]
    for label, w, n, ppl, spe, rounds, share, t, speed, speed_upper, speed_jobs in rows:
        fmt = lambda x: "–" if x is None else f"{x:.1f}×"
        md.append(f"| {label} | {w} | {n} | {'diverged' if ppl is None else f'{ppl:.3f}'} | {spe:.1f} | {rounds:.0f} | "
                  f"{share:.0%} | "
                  f"{'not reached' if t is None else f'{t:.0f}'} | {fmt(speed)} | "
                  f"{'–' if label.startswith('PyTorch') else fmt(speed_upper)} |"
                  + (f" {'–' if label.startswith('PyTorch') else fmt(speed_jobs)} |" if jobs else ""))
    text = ["# Scale study: time to quality on W one-core executors", "",
            "How soon W one-core executors reach one worker's model, simulated from measurements on one machine: the "
            "runs' quality epoch by epoch (Spark local mode), W=1's training time per batch, and what a round costs on "
            "a standalone cluster of W executors (`tools/round_cost.sh`). An epoch on W executors takes its batches "
            "per shard at W=1's seconds per batch, plus its rounds at t(W, P) each (overlapped rounds: the first "
            "at t(W, P), every later one as long as the longer of a block's training with a task's own costs and "
            "the driver's part of t(W, P), which then run side by side; the share column is what is not training); "
            + ("PyTorch DDP's epoch takes its "
               "steps at PyTorch's seconds per batch of 32 on one core plus a ring all-reduce of the gradient per step. "
               if ddp else "PyTorch DDP's runs are not in this report (tools/scale.sh runs them where python3-torch is). ") +
            "Time to quality is the simulated time until validation perplexity first reaches the bar. The last "
            "column replaces the model by what this machine measured: the training as timed here (W shards sharing "
            "two cores) and the wall time a round took beyond training — an upper bound. Method and formulas: "
            "`tools/scale_report.py`.", "",
            f"Generated by `tools/scale.sh` (the runs' figures it used: `scale-runs.json`). Model: char GRU, {p:,} parameters. Quality bar: 1.02 × W=1's final "
            f"validation perplexity = {target:.3f}. One batch of 32 × 35 on one core: SeqSpark "
            f"{batch_seconds * 1000:.1f} ms" + (f", PyTorch {step_seconds * 1000:.1f} ms." if step_seconds else "."),
            "", f"Round-cost model ({'the driver' + chr(39) + 's channel, dist.rounds=stream' if model.stream else 'a Spark job a round'}): "
            f"t(W, P) = {model.describe()}. This machine's wall time beyond training, W executors "
            f"on two cores (the column after it): {upper.describe()}."
            + (f" With a Spark job a round (dist.rounds=jobs, the last column): t(W, P) = {jobs.describe()}." if jobs else ""), "",
            *md, "", "![validation perplexity against simulated wall seconds](scale-seconds.svg)", "",
            "Measured round costs (tools/round_cost.sh), ms per round:", "",
            "| rounds | W | parameters | wall beyond training (this machine) | driver CPU | of it Java threads "
            "| a task's own CPU |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *[f"| {c.get('mechanism', 'jobs')}{' (measured at ' + c['measured_at'] + ')' if 'measured_at' in c else ''} | {c['workers']} | {c['parameters']:,} | {c['overhead_ms_per_round']} | "
              f"{c['driver_cpu_ms']} | {c['driver_threads_cpu_ms']} | {c['task_cpu_ms']} |" for c in every], ""]
    open(os.path.join(docs, "scale.md"), "w").write("\n".join(text))
    print("\n".join(md))
    print("t(W, P) =", model.describe())


if __name__ == "__main__":
    main(*sys.argv[1:4])
