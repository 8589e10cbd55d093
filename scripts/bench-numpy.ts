/**
 * The numpy side of scripts/bench.ts: `X.T @ X` (BLAS) and a vectorised COMQ sweep (all rows in
 * lock-step, one coordinate per row per step, the same update as src/core/quant/comq.ts), run via
 * `python3 -c` when numpy is importable. Returns null when it is not.
 */
import { spawnSync } from 'node:child_process';

/**
 * The vectorised numpy COMQ every benchmark compares against (Python source, pasted into each
 * script): a W4 asymmetric per-row grid, the paper's per-row greedy order, and one lock-step sweep
 * (all rows at once, one coordinate per row per step, the update of src/core/quant/comq.ts).
 */
export const NUMPY_COMQ = String.raw`
def comq_problem(rng, n, m):
    x = rng.standard_normal((2 * m, m)).astype(np.float32)
    G = (x.T @ x) / (2 * m)
    W = rng.standard_normal((n, m)).astype(np.float32)
    return W, G

def comq_grid(W):
    lo, hi = W.min(1), W.max(1)
    step = (hi - lo) / 15
    kmin = np.round(lo / step)
    return step, kmin, kmin + 15

def comq_order(W, G):
    return np.argsort(-np.abs(W) * np.sqrt(np.diag(G))[None, :], axis=1, kind="stable")

def comq_sweep(W, G, step, kmin, kmax, order):
    n, m = W.shape
    rows = np.arange(n)
    diag = np.diag(G)
    What = W.copy(); R = np.zeros_like(W)
    for p in range(m):
        j = order[:, p]
        t = What[rows, j] + R[rows, j] / diag[j]
        new = step * np.clip(np.round(t / step), kmin, kmax)
        d = new - What[rows, j]
        What[rows, j] = new
        R -= d[:, None] * G[j, :]
    return What, R
`;

const script = String.raw`
import json, sys, time
import numpy as np
${NUMPY_COMQ}
spec = json.loads(sys.argv[1])
rng = np.random.default_rng(1)
out = {"numpy": np.__version__, "gram": [], "comq": []}
for g in spec["gram"]:
    x = rng.standard_normal((g["rows"], g["cols"]), dtype=np.float32)
    best = 1e9
    for _ in range(g["repeats"]):
        t = time.perf_counter(); (x.T @ x); best = min(best, time.perf_counter() - t)
    out["gram"].append({"cols": g["cols"], "rows": g["rows"], "seconds": best})
for c in spec["comq"]:
    n, m = c["rows"], c["cols"]
    W, G = comq_problem(rng, n, m)
    step, kmin, kmax = comq_grid(W)
    order = comq_order(W, G)
    t = time.perf_counter(); comq_sweep(W, G, step, kmin, kmax, order); sec = time.perf_counter() - t
    out["comq"].append({"cols": m, "rows": n, "seconds": sec})
print(json.dumps(out))
`;

export interface NumpyResult {
  numpy: string;
  gram: { cols: number; rows: number; seconds: number }[];
  comq: { cols: number; rows: number; seconds: number }[];
}

export function runNumpy(spec: {
  gram: { rows: number; cols: number; repeats: number }[];
  comq: { rows: number; cols: number }[];
}): NumpyResult | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const run = spawnSync('python3', ['-c', script, JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`numpy benchmark failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as NumpyResult;
}

const solveScript = String.raw`
import json, sys, time
import numpy as np
${NUMPY_COMQ}
spec = json.loads(sys.argv[1])
out = {"numpy": np.__version__, "solve": []}
for c in spec:
    n, m = c["rows"], c["cols"]
    W = np.fromfile(c["weight"], dtype=np.float32).reshape(n, m)
    G = np.fromfile(c["gram"], dtype=np.float32).reshape(m, m)
    t0 = time.perf_counter()
    order = comq_order(W, G)
    step, kmin, kmax = comq_grid(W)
    energy = np.sum((W @ G) * W)
    D = W - step[:, None] * np.clip(np.round(W / step[:, None]), kmin[:, None], kmax[:, None])
    rtn = np.sum((D @ G) * D)
    What, R = comq_sweep(W, G, step, kmin, kmax, order)
    objective = np.sum((W - What) * R)
    sec = time.perf_counter() - t0
    out["solve"].append({"cols": m, "rows": n, "seconds": sec, "relError": float(objective / energy), "rtnRelError": float(rtn / energy)})
print(json.dumps(out))
`;

/**
 * A whole vectorised numpy COMQ solve (float32, as the sweep above: per-row greedy order, energy and
 * RTN baseline by BLAS, one lock-step sweep, objective from R) on the W and G given as raw float32
 * files, one BLAS thread (the CPU backend's onnxruntime runs one intra-op thread). Null without numpy.
 */
export function runNumpyComqSolve(spec: { rows: number; cols: number; weight: string; gram: string }[]): {
  numpy: string;
  solve: { cols: number; rows: number; seconds: number; relError: number; rtnRelError: number }[];
} | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const oneThread = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const run = spawnSync('python3', ['-c', solveScript, JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, ...oneThread },
  });
  if (run.status !== 0) throw new Error(`numpy COMQ solve failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ReturnType<typeof runNumpyComqSolve>;
}
