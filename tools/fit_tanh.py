#!/usr/bin/python3
"""Fits the rational tanh used by src/main/java/dev/seqspark/nn/Activations.java and reports its float32 error.

tanh(x) ≈ x · P(s) / Q(s), s = (x/9)², P of degree 6, Q of degree 4 (Q(0) = 1), x clamped to [-9, 9]
(tanh(9) rounds to 1 in float32). Only +, ×, ÷, min and max: the JIT turns the loops that use it into SIMD
code, about 12x faster than Math.exp on this machine. Fit: Lawson's iteratively reweighted least squares
towards the minimax error of tanh itself. Run: /usr/bin/python3 tools/fit_tanh.py  (needs numpy)
"""
import numpy as np

CLAMP = 9.0


def fit(n_p=6, n_q=4, iters=200):
    t = np.cos(np.linspace(0, np.pi, 6000)) * 0.5 + 0.5
    x = t * CLAMP
    f = np.where(x == 0, 1.0, np.tanh(x) / np.where(x == 0, 1, x))
    s = t * t
    lawson = np.ones_like(s)
    q_val = np.ones_like(s)
    best = None
    for _ in range(iters):
        a = np.concatenate([s[:, None] ** np.arange(n_p + 1), -f[:, None] * s[:, None] ** np.arange(1, n_q + 1)], axis=1)
        w = np.sqrt(lawson) * (x + 1e-3) / np.abs(q_val)   # residual ≈ error of tanh itself
        sol, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
        p, q = sol[:n_p + 1], np.concatenate([[1.0], sol[n_p + 1:]])
        q_val = np.polyval(q[::-1], s)
        err = np.abs(x * (np.polyval(p[::-1], s) / q_val - f))
        if best is None or err.max() < best[0]:
            best = (err.max(), p.copy(), q.copy())
        lawson = lawson * (err / err.max() + 1e-3)
        lawson /= lawson.mean()
    return best[1], best[2]


def tanh32(x, p, q):
    """The Java code's arithmetic, in float32."""
    x = np.clip(np.asarray(x, np.float32), np.float32(-CLAMP), np.float32(CLAMP))
    t = x * np.float32(1 / CLAMP)
    s = (t * t).astype(np.float32)
    pv = np.float32(p[-1])
    for c in p[-2::-1]:
        pv = (pv * s + np.float32(c)).astype(np.float32)
    qv = np.float32(q[-1])
    for c in q[-2::-1]:
        qv = (qv * s + np.float32(c)).astype(np.float32)
    return np.clip(x * pv / qv, np.float32(-1), np.float32(1)).astype(np.float32)


def main():
    p, q = fit()
    xs = np.concatenate([np.linspace(-20, 20, 800001), np.logspace(-12, 1.3, 200000),
                         -np.logspace(-12, 1.3, 200000)]).astype(np.float32)
    truth = np.tanh(xs.astype(np.float64))
    err = np.abs(tanh32(xs, p, q).astype(np.float64) - truth)
    sig = 1 / (1 + np.exp(-xs.astype(np.float64)))
    sig32 = (np.float32(0.5) * tanh32(xs * np.float32(0.5), p, q) + np.float32(0.5)).astype(np.float64)
    print("P =", ", ".join("%.9gf" % np.float32(c) for c in p))
    print("Q =", ", ".join("%.9gf" % np.float32(c) for c in q))
    print("tanh: max abs error %.3g, max rel error %.3g" % (err.max(), (err / np.maximum(np.abs(truth), 1e-38)).max()))
    print("sigmoid = 0.5 tanh(x/2) + 0.5: max abs error %.3g" % np.abs(sig32 - sig).max())


if __name__ == "__main__":
    main()
