"""Console entry point: `simctl ...` or `python -m simctl ...`."""

from __future__ import annotations

import os
import sys

from simctl.app import run


def main() -> None:
    code = run(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal core's threads can crash the interpreter during finalisation (sdk-python#300);
    # everything is already closed and flushed, so leave without running finalisers.
    os._exit(code)


if __name__ == "__main__":
    main()
