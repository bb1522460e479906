"""`make bench-publish RUN=bench/results/<timestamp> NAME=<name>`: copy a run's report and the files it
links (its PNG charts, a flame graph) into bench/reports/<name>/, so a published report has every
image beside it. Refuses when the report links a file the run does not have.

    .venv/bin/python bench/publish.py bench/results/20261129-130000 batch-step-search
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import artifacts

BENCH = Path(__file__).resolve().parent
REPORTS = BENCH / "reports"
# Markdown links and images to files beside the report (no scheme, no directory).
LOCAL_LINK = re.compile(r"\]\(([^/():]+\.(?:png|svg|md|json))\)")


def linked_files(report: str) -> list[str]:
    return sorted(set(LOCAL_LINK.findall(report)))


def publish(run: Path, name: str, reports: Path = REPORTS) -> Path:
    report = (run / artifacts.REPORT).read_text()
    missing = [f for f in linked_files(report) if not (run / f).exists()]
    if missing:
        raise SystemExit(f"{run} lacks files its report links: {', '.join(missing)}")
    target = reports / name
    target.mkdir(parents=True, exist_ok=True)
    (target / artifacts.REPORT).write_text(report)
    for linked in linked_files(report):
        shutil.copy(run / linked, target / linked)
    return target / artifacts.REPORT


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: publish.py <run dir> <name>   (make bench-publish RUN=… NAME=…)", file=sys.stderr)
        return 2
    print(publish(Path(sys.argv[1]), sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
