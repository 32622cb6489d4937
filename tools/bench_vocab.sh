#!/usr/bin/env bash
# Large vocabularies: a word-level LSTM language model (embedding 256, hidden 512, vocabulary 30,000 — the
# most frequent lower-case letters-only words of the large English corpus) trained and scored by SeqSpark and
# by PyTorch CPU (tools/bench_lm.py, the same module) side by side, one thread each; the fraction of this
# machine's single-thread sgemm rate (at the head's shape) each figure reaches; and the peak resident memory
# of the executor JVM (local mode: the driver) scoring a small and a three times larger input with a 1 GB heap.
# Prints a Markdown table; raw JSON lines go to target/bench/vocab/.
#
#   tools/bench_vocab.sh [SECONDS] [MEGABYTES]     (defaults: 20 s per training run; 1 MB small input, 3x large)
# Needs Debian's python3-torch. The large corpus is built on demand by ../shared/corpora/fetch_corpora.sh
# (SEQSPARK_LARGE_CORPUS names an existing copy).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
seconds=${1:-20}
mb=${2:-1}
out=$root/target/bench/vocab
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
E=256 H=512 V=30000 B=32 T=35
large=${SEQSPARK_LARGE_CORPUS:-$root/target/corpora/build/out/large_en.txt}
[ -f "$large" ] || bash "$shared/corpora/fetch_corpora.sh" "$root/target/corpora/build" >&2
seqspark=$root/submit-scripts/seqspark
log=$out/results.jsonl
: >"$log"

model=$out/word-lstm
if [ ! -f "$model/config.json" ]; then
  head -c 30M "$large" >"$out/vocab-source.txt"
  /usr/bin/python3 "$root/tools/bench_lm.py" model --corpus "$out/vocab-source.txt" --max-vocab $V --cell lstm \
    --embedding $E --hidden $H --out "$model" >&2
fi

# Training: forward + backward through time + clipping + SGD, random ids, batch 32 x 35 steps.
ours=$("$seqspark" bench --cell lstm --hidden $H --embedding $E --vocab $V --batch $B --steps $T --seconds "$seconds" 2>/dev/null | tail -1)
theirs=$(/usr/bin/python3 "$root/tools/bench_lm.py" train --cell lstm --hidden $H --embedding $E --vocab $V --batch $B \
           --steps $T --seconds "$seconds" | tail -1)
theirs_fwd=$(/usr/bin/python3 "$root/tools/bench_lm.py" forward --cell lstm --hidden $H --embedding $E --vocab $V \
               --batch 128 --steps $T --seconds "$seconds" | tail -1)
gemm=$("$seqspark" bench --gemm $((B * T))x${V}x${H} --seconds 5 --warmup 1 2>/dev/null | tail -1)
printf '%s\n%s\n%s\n%s\n' "$ours" "$theirs" "$theirs_fwd" "$gemm" >>"$log"

# Scoring: the whole `seqspark score` job on 1 executor core with a 1 GB heap, a small and a larger input.
score() {  # megabytes → one JSON line with tokens_per_second and peak_rss_mb
  head -c "$1M" "$large" >"$out/score-$1M.txt"
  SEQSPARK_DRIVER_MEMORY=1g /usr/bin/time -v -o "$out/time.txt" "$seqspark" score --model "$model" \
    --input "$out/score-$1M.txt" --output "$out/scored" --overwrite --master 'local[1]' 2>/dev/null | tail -1 >"$out/score.json"
  python3 - "$out/score.json" "$out/time.txt" "$1" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
s["peak_rss_mb"] = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1)) // 1024
s["input_mb"] = int(sys.argv[3])
print(json.dumps(s))
PY
}
small=$(score "$mb")
big=$(score $((3 * mb)))
printf '%s\n%s\n' "$small" "$big" >>"$log"

python3 - "$ours" "$theirs" "$theirs_fwd" "$gemm" "$small" "$big" $E $H $V <<'PY'
import json, sys
ours, theirs, fwd, gemm, small, big = (json.loads(x) for x in sys.argv[1:7])
E, H, V = (int(x) for x in sys.argv[7:10])
G = 4
train_flops = 6 * G * H * (E + H) + 6 * H * V          # per token: LSTM input + recurrent, head; forward + backward
fwd_flops = 2 * G * H * (E + H) + 2 * H * V
rate = gemm["gflops"] * 1e9
def frac(tps, flops):
    return "%.0f%%" % (100 * tps * flops / rate)
print("Word-level LSTM, embedding %d, hidden %d, vocabulary %s; one thread; sgemm at the head's shape (%s): %.1f GFLOP/s (%s)."
      % (E, H, format(V, ","), gemm["gemm"], gemm["gflops"], gemm["blas"]))
print()
print("| run | SeqSpark tokens/s | PyTorch %s tokens/s | ratio | SeqSpark at sgemm rate |" % theirs["impl"].split("-")[1])
print("|---|---:|---:|---:|---:|")
a, b = ours["tokens_per_second"], theirs["tokens_per_second"]
print("| training (batch 32 x 35) | %s | %s | %.2fx | %s |" % (format(round(a), ","), format(round(b), ","), a / b, frac(a, train_flops)))
s, f = small["tokens_per_second"], fwd["tokens_per_second"]
print("| scoring: `seqspark score` job, 1 core, %d MB vs PyTorch forward (batch 128 x 35) | %s | %s | %.2fx | %s |"
      % (small["input_mb"], format(round(s), ","), format(round(f), ","), s / f, frac(s, fwd_flops)))
s2 = big["tokens_per_second"]
print("| scoring: `seqspark score` job, 1 core, %d MB | %s | | %.2fx | %s |"
      % (big["input_mb"], format(round(s2), ","), s2 / f, frac(s2, fwd_flops)))
print()
print("Peak RSS of the executor JVM (-Xmx1g) scoring %d MB (%s tokens): %d MB; %d MB (%s tokens): %d MB."
      % (small["input_mb"], format(small["tokens"], ","), small["peak_rss_mb"], big["input_mb"], format(big["tokens"], ","),
         big["peak_rss_mb"]))
PY
echo
echo "raw results: $log"
