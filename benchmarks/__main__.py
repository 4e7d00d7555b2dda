"""`make bench`: run every `benchmarks/bench_*.py` and print their BENCH lines last.

Each benchmark runs in its own process (so peak-memory figures are its own) and
prints lines of the form `BENCH <name> <value> <unit> baseline=<value> ratio=<value>`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    bench_lines: list[str] = []
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"== {path.stem}", flush=True)
        result = subprocess.run(  # noqa: S603 - our own modules, run with our interpreter
            [sys.executable, "-m", f"benchmarks.{path.stem}"],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            check=False,
        )
        for line in result.stdout.splitlines():
            if line.startswith("BENCH "):
                bench_lines.append(line)
            else:
                print(line)
        if result.returncode != 0:
            failed.append(path.stem)
            print(result.stderr[-3000:], file=sys.stderr)
    for line in bench_lines:
        print(line)
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
