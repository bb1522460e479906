"""`make bench-compare A=<dir> B=<dir>`: per-metric ratios B ÷ A between two bench runs.

Reads each run's collected.json (not the Markdown), so the figures are the measured ones. Judge a
change against a baseline measured on the same machine: absolute numbers move with the box.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import artifacts
from report.k6summary import endpoint_rows
from report.markdown import table
from report.measures import service_metrics
from steps import best_clean

# Direction: +1 = higher is better, −1 = lower is better.
Metric = tuple[str, float, int]


def metrics_of(run: dict[str, Any]) -> dict[str, tuple[float, int]]:
    out: dict[str, tuple[float, int]] = {}
    for result in run.get("scenarios", []):
        name = result["name"]
        summary = result.get("summary") or {}
        duration = float(result.get("duration_s") or 0) or math.nan
        for row in endpoint_rows(summary):
            ep = row["endpoint"]
            out[f"{name}/{ep} req/s"] = (row["requests"] / duration, +1)
            out[f"{name}/{ep} success"] = (row["success"], +1)
            for stat in ("avg", "med", "p(95)", "p(99)"):
                out[f"{name}/{ep} {stat} ms"] = (row[stat], -1)
        samples = result.get("samples") or []
        for key in ("service_cpu", "service_rss_mb", "postgres_cpu"):
            vals = [float(s[key]) for s in samples if key in s]
            if vals:
                out[f"{name}/{key} avg"] = (sum(vals) / len(vals), -1)
        sm = service_metrics(result) or {}
        for key in ("rows_per_flush", "events_per_flush_statement", "ack_latency_avg_ms", "flush_avg_ms"):
            if key in sm and not math.isnan(sm[key]):
                out[f"{name}/{key}"] = (sm[key], -1 if key.endswith("_ms") else +1)
        steps = result.get("step_search")
        if steps:
            out[f"{name}/clean rate service"] = (best_clean(steps["service"]), +1)
            out[f"{name}/clean rate baseline"] = (best_clean(steps["baseline"]), +1)
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    ma, mb = metrics_of(a), metrics_of(b)
    rows = []
    for key in [k for k in ma if k in mb]:
        (va, better), (vb, _) = ma[key], mb[key]
        ratio = vb / va if va and not math.isnan(va) and not math.isnan(vb) else math.nan
        verdict = ""
        if not math.isnan(ratio) and abs(ratio - 1) >= 0.05:
            verdict = "better" if (ratio > 1) == (better > 0) else "worse"
        rows.append([key, f"{va:,.3f}", f"{vb:,.3f}", "–" if math.isnan(ratio) else f"{ratio:.3f}", verdict])
    only = sorted(set(ma) ^ set(mb))
    text = table(["metric", "A", "B", "B ÷ A", "(±5 %)"], rows)
    if only:
        text += "\n\nIn one run only: " + ", ".join(only)
    return text


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: compare.py <run dir A> <run dir B>   (make bench-compare A=… B=…)", file=sys.stderr)
        return 2
    runs = [json.loads((Path(p) / artifacts.COLLECTED).read_text()) for p in sys.argv[1:]]
    print(f"A = {sys.argv[1]}\nB = {sys.argv[2]}\n")
    print(compare(*runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
