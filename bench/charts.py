"""PNG charts for the report (matplotlib, Agg backend): latency and throughput over time, process
CPU/RSS, and the step search. File names come from artifacts.py, which the report links to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import artifacts


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def render(run: dict[str, Any], out: Path) -> list[Path]:
    written: list[Path] = []
    for result in run.get("scenarios", []):
        name = result["name"]
        kinds = artifacts.charts_of(result)
        series = result.get("timeseries") or {}
        seconds = series.get("seconds") or []
        endpoints = series.get("endpoints") or {}
        if "latency" in kinds:
            fig, ax = plt.subplots(figsize=(10, 4))
            for endpoint, data in sorted(endpoints.items()):
                ax.plot(
                    seconds,
                    [v if v is not None else float("nan") for v in data["p95_ms"]],
                    label=endpoint,
                    linewidth=1,
                )
            ax.set_title(f"{name}: p95 latency per second")
            ax.set_xlabel("seconds")
            ax.set_ylabel("ms")
            ax.set_yscale("log")
            ax.legend(fontsize=8, ncol=4)
            ax.grid(alpha=0.3)
            written.append(out / artifacts.chart(name, "latency"))
            _save(fig, written[-1])

            fig, ax = plt.subplots(figsize=(10, 4))
            for endpoint, data in sorted(endpoints.items()):
                ax.plot(seconds, data["count"], label=endpoint, linewidth=1)
            fails = series.get("failures_per_s") or []
            if any(fails):
                ax.plot(seconds, fails, label="failures", color="red", linewidth=1)
            ax.set_title(f"{name}: requests per second")
            ax.set_xlabel("seconds")
            ax.set_ylabel("per second")
            ax.legend(fontsize=8, ncol=4)
            ax.grid(alpha=0.3)
            written.append(out / artifacts.chart(name, "throughput"))
            _save(fig, written[-1])

        samples = result.get("samples") or []
        if "resources" in kinds:
            t = [s["t"] for s in samples]
            fig, ax = plt.subplots(figsize=(10, 4))
            for key, label in (
                ("service_cpu", "service CPU %"),
                ("postgres_cpu", "PostgreSQL CPU %"),
                ("k6_cpu", "k6 CPU %"),
            ):
                ax.plot(t, [s.get(key, 0) for s in samples], label=label, linewidth=1)
            ax.set_ylabel("CPU % (100 = one core)")
            ax.set_xlabel("seconds")
            ax2 = ax.twinx()
            ax2.plot(
                t,
                [s["service_rss_mb"] for s in samples],
                label="service RSS MB",
                color="gray",
                linestyle="--",
                linewidth=1,
            )
            ax2.set_ylabel("MB")
            ax.set_title(f"{name}: CPU and memory")
            lines = ax.get_legend_handles_labels()
            lines2 = ax2.get_legend_handles_labels()
            ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
            ax.grid(alpha=0.3)
            written.append(out / artifacts.chart(name, "resources"))
            _save(fig, written[-1])

        steps = result.get("step_search")
        if "steps" in kinds:
            fig, ax = plt.subplots(figsize=(8, 4))
            for label in ("baseline", "service"):
                pts = steps[label]
                ax.plot(
                    [p["achieved_rate"] for p in pts], [p["p95_ms"] for p in pts], marker="o", label=label
                )
            ax.axhline(steps["p95_limit_ms"], color="red", linestyle=":", label="p95 limit")
            unit = "requests" if name == "api" else "events"
            ax.set_xlabel(f"achieved {unit}/s")
            ax.set_ylabel(f"{'HTTP' if name == 'api' else 'gRPC'} p95 ms per call")
            ax.set_yscale("log")
            ax.set_title(f"{name} step search")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
            written.append(out / artifacts.chart(name, "steps"))
            _save(fig, written[-1])
    return written
