"""A task's start: the imports of a build task (the pipeline, Great Expectations, pandas,
DuckDB) with bytecode compiled at install, as the image does (UV_COMPILE_BYTECODE and
compileall), against compiling every import at start (PYTHONDONTWRITEBYTECODE without
compiled bytecode, the image before).

    python -m benchmarks.bench_task_start [--repeat 3]

Each side runs in fresh interpreters whose bytecode cache is redirected
(PYTHONPYCACHEPREFIX): an empty folder for the baseline, a folder filled once
beforehand for the compiled side; the best of `repeat` runs counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import clientpulse.pipeline.build_signals, great_expectations, pandas, duckdb"


def start(cache: Path, *, write: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=env, check=True)  # noqa: S603
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as compiled:
        start(Path(compiled), write=True)  # what compiling at install leaves behind
        cold = min(start(Path(empty), write=False) for _ in range(args.repeat))
        warm = min(start(Path(compiled), write=False) for _ in range(args.repeat))
    print(f"BENCH task_start_imports {warm:.2f} s baseline={cold:.2f} ratio={cold / warm:.2f}")


if __name__ == "__main__":
    main()
