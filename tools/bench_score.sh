#!/usr/bin/env bash
# Scoring throughput and memory: `seqspark score` over large real English text (~109 MB, public domain and
# free licences, built on demand by ../shared/corpora/fetch_corpora.sh into target/corpora/), in Spark local
# mode with 1 and 2 executor cores (in local mode the executor is the driver JVM), the peak resident memory of
# that JVM for a small and a large input, and PyTorch CPU's forward-only throughput for the same model shape
# (../shared/anchors/bench_forward.py, 1 thread) side by side. Prints a Markdown table.
#
#   tools/bench_score.sh [MODEL_DIR] [MEGABYTES]     (default: models/char-gru, trained first if missing; 100)
#   REPEATS=N (default 3): turns of the three throughput runs; the table gives the medians
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SEQSPARK_SHARED:-$root/../shared}
model=${1:-$root/models/char-gru}
mb=${2:-100}
bench=$root/target/bench
mkdir -p "$bench"

if [ ! -f "$model/config.json" ]; then
  "$root/submit-scripts/seqspark" train --config "$root/conf/char-gru.properties" --output "$model" --overwrite >/dev/null
fi
large=${SEQSPARK_LARGE_CORPUS:-$root/target/corpora/build/out/large_en.txt}
[ -f "$large" ] || bash "$shared/corpora/fetch_corpora.sh" "$root/target/corpora/build" >&2
gemm=$("$root/submit-scripts/seqspark" bench --gemm 2048x2048x2048 --seconds 5 --warmup 2 2>/dev/null | tail -1)
small_in=$bench/score-10M.txt
big_in=$bench/score-${mb}M.txt
head -c 10M "$large" >"$small_in"
head -c "${mb}M" "$large" >"$big_in"

score() {  # cores input → "tokens_per_second peak_rss_mb records tokens"
  /usr/bin/time -v -o "$bench/time.txt" "$root/submit-scripts/seqspark" score --model "$model" --input "$2" \
    --output "$bench/scored" --overwrite --master "local[$1]" 2>/dev/null | tail -1 >"$bench/score.json"
  python3 - "$bench/score.json" "$bench/time.txt" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1)) // 1024
print(s["tokens_per_second"], rss, s["records"], s["tokens"])
PY
}
cell=$(python3 -c "import json; print(json.load(open('$model/config.json'))['cell'])")
hidden=$(python3 -c "import json; print(json.load(open('$model/config.json'))['hidden_size'])")
vocab=$(python3 -c "import json; print(json.load(open('$model/config.json'))['vocab_size'])")
# The three throughput runs take turns, REPEATS times, and each figure is the median: on a shared VM the speed
# of one run drifts by a quarter, and taking turns gives every side the same drift.
t1s=() t2s=() torches=() m1=0 m2=0
for _ in $(seq "${REPEATS:-3}"); do
  read -r t m rec tok < <(score 1 "$big_in"); t1s+=("$t"); m1=$((m > m1 ? m : m1))
  read -r t m _ _ < <(score 2 "$big_in"); t2s+=("$t"); m2=$((m > m2 ? m : m2))
  torches+=("$(/usr/bin/python3 "$shared/anchors/bench_forward.py" --cell "${cell%_tanh}" --hidden "$hidden" \
      --vocab "$vocab" --batch 64 --threads 1 --seconds 10 | tail -1 \
      | python3 -c "import json,sys; print(json.load(sys.stdin)['tokens_per_second'])")")
done
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
spread() { python3 -c "import sys; v=[round(float(x)) for x in sys.argv[1:]]; print(format(min(v), ',') + ' – ' + format(max(v), ','))" "$@"; }
t1=$(median "${t1s[@]}") t2=$(median "${t2s[@]}") torch=$(median "${torches[@]}")
read -r _ m_small _ _ < <(score 1 "$small_in")
echo "Model: $model ($cell, hidden $hidden, vocab $vocab). Input: first ${mb} MB of the large English corpus: $rec records, $tok tokens."
echo
layers=$(python3 -c "import json; print(json.load(open('$model/config.json'))['num_layers'])")
echo "| run | tokens/s (whole job) | tokens/s per core | vs PyTorch per core | at sgemm rate | peak RSS of the executor JVM |"
echo "|---|---:|---:|---:|---:|---:|"
python3 - "$t1" "$t2" "$torch" "$m1" "$m2" "$m_small" "$mb" "$gemm" "$cell" "$hidden" "$vocab" "$layers" <<'PY'
import json, sys
t1, t2, torch = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
m1, m2, ms, mb = sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
gemm = json.loads(sys.argv[8])
G = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}[sys.argv[9]]
H, V, L = int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12])
flops = 2 * G * H * H + 4 * G * H * H * (L - 1) + 2 * H * V    # forward, one-hot input (a gather)
frac = lambda t: "%.0f%%" % (100 * t * flops / (gemm["gflops"] * 1e9))
print("| SeqSpark, 1 executor core, %s MB | %s | %s | %.2fx | %s | %s MB |" % (mb, format(round(t1), ","), format(round(t1), ","), t1 / torch, frac(t1), m1))
print("| SeqSpark, 2 executor cores, %s MB | %s | %s | %.2fx | %s | %s MB |" % (mb, format(round(t2), ","), format(round(t2 / 2), ","), t2 / 2 / torch, frac(t2 / 2), m2))
print("| SeqSpark, 1 executor core, 10 MB | | | | | %s MB |" % ms)
print("| PyTorch 1.13 forward only, 1 thread, batch 64 | | %s | 1.00x | %s | |" % (format(round(torch), ","), frac(torch)))
print()
print("sgemm (2048^2, 1 thread): %s GFLOP/s (%s); forward FLOPs per token %s." % (gemm["gflops"], gemm["blas"], format(flops, ",")))
PY
echo "Medians of ${REPEATS:-3} turns; whole-job tokens/s ranged $(spread "${t1s[@]}") (1 core), $(spread "${t2s[@]}") (2 cores);" \
     "PyTorch $(spread "${torches[@]}")."
