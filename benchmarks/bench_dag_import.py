"""DAG file parse cost beyond `import airflow.sdk` (target: under 0.3 s per file).

Each measurement is a fresh interpreter: first `airflow.sdk` is imported and timed
(the baseline every DAG file pays anyway), then the DAG file is executed and timed.
`airflow.sdk` loads its decorators and timetables lazily, on first attribute access,
so a second figure splits that Airflow share off: `dag_parse_own_<dag>` is the time
left after resolving the `airflow.sdk` names the DAG uses. Medians of several runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parent.parent / "dags"
RUNS = 5
# Airflow puts the plugins folder on sys.path before it parses DAG files; so does the probe.
_AIRFLOW_PATH = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(DAGS.parent), str(DAGS.parent / "plugins")]),
}

_PROBE = """
import json, sys, time, importlib.util
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
if sys.argv[2] == "resolve":
    import airflow.sdk.exceptions
    for name in ("dag", "task", "Asset", "AssetOrTimeSchedule", "CronTriggerTimetable"):
        getattr(airflow.sdk, name)
t2 = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
t3 = time.perf_counter()
print(json.dumps({"sdk": t1 - t0, "sdk_names": t2 - t1, "dag": t3 - t2}))
"""


def measure(dag_file: Path, mode: str) -> dict[str, float]:
    runs = []
    for _ in range(RUNS):
        out = subprocess.run(  # noqa: S603 - our interpreter, our probe
            [sys.executable, "-c", _PROBE, str(dag_file), mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=DAGS.parent,
            env=_AIRFLOW_PATH,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    for dag_file in sorted(DAGS.glob("*.py")):
        whole = measure(dag_file, "plain")
        own = measure(dag_file, "resolve")
        print(
            f"BENCH dag_parse_{dag_file.stem} {whole['dag']:.3f} s "
            f"baseline={whole['sdk']:.3f} ratio={whole['dag'] / whole['sdk']:.3f}"
        )
        baseline = own["sdk"] + own["sdk_names"]
        print(
            f"BENCH dag_parse_own_{dag_file.stem} {own['dag']:.3f} s "
            f"baseline={baseline:.3f} ratio={own['dag'] / baseline:.3f}"
        )


if __name__ == "__main__":
    main()
