"""Cost of finding a layer's protected subspace: lateral Hebbian circuit vs SVD.

For random low-rank-plus-noise activity of S rows and N inputs, fits M lateral
neurons (``epochs`` passes, 5 iterations per batch) and times it against one
SVD of the same rows; reports seconds, the relative reconstruction error of
each, and the principal angles between the two subspaces. Writes
``results/benchmarks/hlop_subspace.json``.

Run::

    python benchmarks/hlop_subspace.py [--sizes 784:80,256:64] [--rows 4000] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from neuromem.models.hlop.subspace import LateralSubspace, principal_angles_deg

ROOT = Path(__file__).resolve().parents[1]


def bench(n: int, m: int, rows: int, epochs: int, seed: int) -> dict[str, float]:
    g = torch.Generator().manual_seed(seed)
    rank = 2 * m
    basis, _ = torch.linalg.qr(torch.randn(n, rank, generator=g))
    scales = torch.linspace(3.0, 0.3, rank)
    x = (torch.randn(rows, rank, generator=g) * scales) @ basis.T + 0.05 * torch.randn(rows, n, generator=g)
    t0 = time.perf_counter()
    sub = LateralSubspace(n, lr=1.0)
    sub.add_neurons(m, g)
    sub.fit(x, epochs=epochs, generator=g)
    t_hlop = time.perf_counter() - t0
    t0 = time.perf_counter()
    top = torch.linalg.svd(x, full_matrices=False)[2][:m]
    t_svd = time.perf_counter() - t0
    total = float((x**2).sum())
    err_h = float(((x - sub.project(x)) ** 2).sum()) / total
    err_s = float(((x - (x @ top.T) @ top) ** 2).sum()) / total
    angles = principal_angles_deg(sub.weight, top)
    return {"N": n, "M": m, "rows": rows, "epochs": epochs, "hlop_s": t_hlop, "svd_s": t_svd,
            "hlop_recon_err": err_h, "svd_recon_err": err_s,
            "mean_angle_deg": float(angles.mean()), "max_angle_deg": float(angles.max())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784:80,256:64")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for item in args.sizes.split(","):
        n, m = (int(v) for v in item.split(":"))
        rows.append(bench(n, m, args.rows, args.epochs, seed=0))
        print(json.dumps(rows[-1]))
    out = ROOT / "results" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hlop_subspace.json").write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
