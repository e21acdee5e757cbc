"""Run a PyNN script unchanged on neuromem: ``python -m neuromem.pynn [--device D] [--dtype T] SCRIPT [ARGS...]``.

The script sees ``sys.argv == [SCRIPT, ARGS...]`` and ``__name__ == "__main__"``;
``import pyNN.neuromem`` (or ``get_simulator()`` with ``neuromem`` as the
simulator argument) gives this simulator. ``--device`` (``cpu``, ``cuda``,
``cuda:N``) and ``--dtype`` (``float64``, ``float32``) are what ``setup()``
uses when the script does not say.

Example: ``python -m neuromem.pynn --device cuda examples/simpleRandomNetwork.py neuromem``
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from neuromem.pynn import hook
from neuromem.pynn.control import DEFAULTS

OPTIONS = {"--device": "device", "--dtype": "dtype"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    while args and args[0] in OPTIONS:
        if len(args) < 2:
            print(f"neuromem.pynn: {args[0]} needs a value", file=sys.stderr)
            return 2
        DEFAULTS[OPTIONS[args[0]]] = args[1]
        args = args[2:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    script = Path(args[0])
    if not script.is_file():
        print(f"neuromem.pynn: no such script: {script}", file=sys.stderr)
        return 2
    hook.install()
    sys.argv = [str(script), *args[1:]]
    sys.path.insert(0, str(script.resolve().parent))
    runpy.run_path(str(script), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
