"""The main demo: the CA3 memory learns, recalls by address and by content, and forgets.

Runs the functional test of the CA3 paper (5 addresses, 10-bit contents) twice:
through the task API (printed as questions and answers) and as one network
run whose raster, weight matrices, answers and metrics are written to a new
folder (``neuromem demo``: ``results/demo-<date>-<time>``). The files are
written next to it first and moved in only when all are there.
"""

from __future__ import annotations

import json
from pathlib import Path

from neuromem.errors import ValidationError
from neuromem.models.ca3 import CA3Memory
from neuromem.models.ca3.experiment import run_published
from neuromem.models.ca3.scenarios import functional
from neuromem.outputs import OutputFolder
from neuromem.spec.schemes import SPINNAKER

#: What the demo writes into its folder.
DEMO_FILES = ("raster.png", "weights.png", "answers.png", "metrics.json")


def run_demo(out: Path, overwrite: bool = False) -> dict[str, object]:
    """Run the demo, print what happens, write figures and metrics to ``out``.

    ``out`` must be new or empty; with ``overwrite`` it may hold an earlier
    demo's files, and only those (unchanged since) are replaced.
    """
    output = OutputFolder(
        out, DEMO_FILES, "write the demo", overwrite=overwrite, flag="--overwrite", error=ValidationError
    )
    output.check()
    memory = CA3Memory(n=5, m=10)
    steps = [
        ("store address 0 <- bits [0, 1, 8, 9]", lambda: memory.store(0, [0, 1, 8, 9])[0], None),
        ("store address 4 <- bits [1, 5, 6]", lambda: memory.store(4, [1, 5, 6])[0], None),
        ("store address 3 <- bits [4, 5, 6]", lambda: memory.store(3, [4, 5, 6])[0], None),
        ("recall by address 0", lambda: memory.recall_by_address(0)[0].content, (0, 1, 8, 9)),
        ("recall by content [6]", lambda: memory.recall_by_content([6])[0].addresses, (3, 4)),
        ("recall by content [0, 4]", lambda: memory.recall_by_content([0, 4])[0].addresses, (0, 3)),
        ("overwrite address 3 <- [1, 3, 4, 8]", lambda: memory.store(3, [1, 3, 4, 8])[0].forgotten, (5, 6)),
        ("recall by address 3", lambda: memory.recall_by_address(3)[0].content, (1, 3, 4, 8)),
        ("recall by content [6]", lambda: memory.recall_by_content([6])[0].addresses, (4,)),
    ]
    print(f"CA3 content-addressable memory, n = 5 addresses, m = 10 bits (torch backend, {SPINNAKER!r} scheme)")
    correct = 0
    for text, action, expected in steps:
        result = action()
        if expected is None:
            print(f"  {text:<40} echo: address {result.echo.addresses}, content {result.echo.content}")
            continue
        ok = tuple(result) == expected
        correct += ok
        what = "forgotten bits" if "overwrite" in text else ("content" if "address" in text else "addresses")
        print(f"  {text:<40} {what}: {tuple(result)}  (expected {expected}) {'ok' if ok else 'WRONG'}")
    with output.staging() as staging:
        metrics = run_published("functional", functional(), 5, 10, 90, staging)
        metrics["api_answers_correct"] = f"{correct} of {sum(e is not None for *_, e in steps)}"
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
        output.commit()
    print(f"network run: {metrics['answers_correct']} of {metrics['operations']} operations answered as expected")
    if "gold_spikes_matched" in metrics:
        print(f"SpiNNaker recording: {metrics['gold_spikes_matched']} spikes matched")
    print(f"figures and metrics in {out}/")
    return metrics
