"""Sparsey's recognition path as one spiking network: every level, on the torch engine and through PyNN.

The digits hierarchy (``neuromem/resources/parameters/sparsey_net_digits.toml``, with the
``"lowest"`` tie rule the spiking path implements) learns the 989 training
images of scikit-learn's digits once each. Its recognition path, both levels
in one network (:mod:`neuromem.models.sparsey.spiking`), then reads the test
images:

- on the torch engine (``neuromem.backends.build``), the first 300 test
  images as one batch of trials: per level, the fraction of codes equal to the algorithm's
  max-V codes, and the classification accuracy of the spiking codes (Hebbian
  class nodes fitted on the algorithm's training codes);
- exported as a standalone PyNN script (``neuromem.export.write_pynn_script``)
  and, where pyNN.nest is installed, run on NEST for a few test images
  (``neuromem.export.to_pynn``, one image per run), again compared with the
  algorithm.

Usage: ``python experiments/sparsey_spiking.py [--quick]``
Writes ``results/sparsey_spiking/{metrics.json, pynn_export/}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from neuromem import data  # noqa: E402
from neuromem.export import to_pynn, write_pynn_script  # noqa: E402
from neuromem.models.sparsey import Hierarchy, load_network  # noqa: E402
from neuromem.models.sparsey.classify import binarise, recognise_codes  # noqa: E402
from neuromem.models.sparsey.readout import CodeOverlapReadout  # noqa: E402
from neuromem.models.sparsey.spiking import decode, query_sources, spiking_recognise, to_network  # noqa: E402
from neuromem.spec import Population  # noqa: E402

DT = 0.1


def trained() -> tuple[Hierarchy, torch.Tensor, np.ndarray, torch.Tensor, np.ndarray]:
    """The digits hierarchy (lowest-index ties) after one pass over the training images."""
    preset = load_network("digits")
    preset = dataclasses.replace(preset, params=tuple(dataclasses.replace(p, tie="lowest") for p in preset.params))
    images, labels = data.load_digits()
    tr, te = data.stratified_split(labels, test_fraction=0.45, seed=0)
    tr = tr[np.random.default_rng(2).permutation(len(tr))]
    net = preset.build(seed=0)
    x_tr, x_te = binarise(images[tr], preset.thresholds), binarise(images[te], preset.thresholds)
    for i in range(len(tr)):
        net.learn(x_tr[i])
    return net, x_tr, labels[tr], x_te, labels[te]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 test images, 2 on NEST")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = ROOT / "results" / "sparsey_spiking"
    out_dir.mkdir(parents=True, exist_ok=True)
    net, x_tr, y_tr, x_te, y_te = trained()
    # The first 300 test images: the batched LIF run takes ~1,700 steps of ~10,000 cells per image.
    n_test = 50 if args.quick else 300
    x_te, y_te = x_te[:n_test], y_te[:n_test]
    algorithmic = [r.code for r in net.recognise(x_te)]
    start = time.perf_counter()
    spiking = spiking_recognise(net, x_te, dt=DT)
    spiking_s = time.perf_counter() - start
    network, timing = to_network(net, dt=DT)
    train_codes = recognise_codes(net, x_tr)
    Ks = [layer.K for layer in net.layers]
    metrics: dict[str, object] = {
        "n_test": len(y_te),
        "dt_ms": DT,
        "duration_ms": timing.duration_ms,
        "neurons": {p.name: p.size for p in network.populations},
        "synapses": {p.name: int(network.connection_list(p.name).pre.size) for p in network.projections},
        "torch_seconds": spiking_s,
        "levels": [],
    }
    for i, (got, want) in enumerate(zip(spiking, algorithmic, strict=True)):
        readout = CodeOverlapReadout(10).fit([train_codes[i]], torch.as_tensor(y_tr), [Ks[i]])
        row = {
            "codes_equal": float((got == want).all(dim=-1).float().mean()),
            "cm_winners_equal": float((got == want).float().mean()),
            "accuracy_spiking_codes": float((readout.predict([got[0]]).numpy() == y_te).mean()),
            "accuracy_algorithmic_codes": float((readout.predict([want[0]]).numpy() == y_te).mean()),
        }
        metrics["levels"].append(row)  # type: ignore[union-attr]
        print(f"level {i + 1}: {row}")
    print(f"torch: {len(y_te)} images, {timing.duration_ms:.1f} ms of network time each, {spiking_s:.1f} s wall")
    # The export folder is this script's own output: an earlier run's export is replaced.
    export = write_pynn_script(
        network, out_dir / "pynn_export", duration=timing.duration_ms, dt=DT, targets=("nest", "brian2"), overwrite=True
    )
    metrics["pynn_script"] = str(export.relative_to(ROOT))
    if importlib.util.find_spec("pyNN") and importlib.util.find_spec("nest"):
        n_nest = 2 if args.quick else 5
        equal = []
        start = time.perf_counter()
        for b in range(n_nest):
            inputs = query_sources(x_te[b : b + 1], timing)[0]
            populations = tuple(Population("input", inputs) if p.name == "input" else p for p in network.populations)
            single = dataclasses.replace(network, populations=populations)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                recording = to_pynn(single, "nest", duration=timing.duration_ms, dt=DT)
            codes = decode(recording, net, 1)
            equal.append([bool(torch.equal(c[:, 0], a[:, b])) for c, a in zip(codes, algorithmic, strict=True)])
        metrics["nest"] = {"images": n_nest, "levels_equal": equal, "seconds": time.perf_counter() - start}
        print(f"NEST: per image, per level, codes equal to the algorithm: {equal}")
    else:
        metrics["nest"] = "skipped: pyNN.nest is not installed"
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
