#!/usr/bin/env bash
# The bundled OpenBLAS against the system's (and any other libopenblas.so.0 named): GRU training throughput
# (`seqspark bench --cell gru`, one thread) with SEQSPARK_BLAS set to each in turn, ROUNDS times, so that every
# library sees the same drift of a shared VM; prints a Markdown table of medians and ranges, each against the
# system library. Needs Debian's libopenblas0-pthread (SEQSPARK_BLAS=system).
#
#   tools/bench_blas.sh [ROUNDS] [SECONDS] [/path/to/libopenblas.so.0 ...]     (defaults: 5 rounds, 10 s)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-5}
seconds=${2:-10}
shift $(($# < 2 ? $# : 2))
libs=(system bundled "$@")
seqspark=$root/submit-scripts/seqspark

if ! grep -q 'libopenblas\.so\.0 ' <<<"$(/sbin/ldconfig -p 2>/dev/null)"; then
  echo "bench_blas: no system libopenblas.so.0 (install Debian's libopenblas0-pthread)" >&2
  exit 2
fi
for l in "$@"; do
  [ -f "$l" ] || { echo "bench_blas: $l: no such library" >&2; exit 2; }
done

out=$root/target/bench/blas
mkdir -p "$out"
for i in "${!libs[@]}"; do : >"$out/$i.jsonl"; done
for _ in $(seq "$rounds"); do
  for i in "${!libs[@]}"; do
    SEQSPARK_BLAS=${libs[$i]} "$seqspark" bench --cell gru --seconds "$seconds" --warmup 3 2>/dev/null | tail -1 >>"$out/$i.jsonl"
  done
done

python3 - "$out" "${libs[@]}" <<'PY'
import json, statistics, sys
out, libs = sys.argv[1], sys.argv[2:]
rows = []
for i, name in enumerate(libs):
    rs = [json.loads(l) for l in open(f"{out}/{i}.jsonl") if l.strip()]
    t = [r["tokens_per_second"] for r in rs]
    rows.append((name, rs[0]["blas"], statistics.median(t), min(t), max(t)))
base = rows[0][2]
print(f"GRU training (seqspark bench --cell gru), one thread, taking turns; medians of {len(t)} runs each. Raw: {out}/")
print()
print("| SEQSPARK_BLAS | library | tokens/s, median | range | vs system |")
print("|---|---|---:|---:|---:|")
for name, blas, med, lo, hi in rows:
    print(f"| {name} | {blas} | {med:,.0f} | {lo:,.0f} – {hi:,.0f} | {med / base:.2f}x |")
PY
