"""The bench's command line (the Makefile's knobs) as one frozen record."""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import generate

# Settings the service (or the data generator) takes from the environment are part of what was
# measured, so the reproduce line carries them.
TUNING_ENV = ("FLUSH_INTERVAL_MS", "FLUSH_BATCH_EVENTS", "BUFFER_MAX_ENTRIES", "DB_POOL_SIZE", "CLAIM_SHARE")
QUICK_DURATION, FULL_DURATION = "75s", "10m"
# Under QUICK a scenario with a step search runs its constant part this long; the search takes the rest.
QUICK_SEARCH_SCENARIO_S = 20.0
QUICK_STEP, FULL_STEP = "6s", "15s"
# The open gRPC connections the `connections` scenario compares (the Go suite's scenario 4 holds about
# 2,000: 1,000 VUs with two each).
CONNECTION_COUNTS = (50, 2000)


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[str, ...]
    vus: int
    event_rate: int
    request_rate: int
    # The batch scenario: events per second, and per call.
    batch_rate: int
    batch_size: int
    # Open gRPC connections the event scenarios hold (0: as many as the rate needs); the `connections`
    # scenario runs once per count in `connection_counts`.
    connections: int
    connection_counts: tuple[int, ...]
    claim_share: float
    duration_s: float
    # The constant part of a scenario that also runs a step search.
    search_scenario_s: float
    ack_mode: str
    quick: bool
    # Empty: each step search's own rates (scenarios.StepSearch).
    step_rates: tuple[int, ...]
    step_s: float
    step_search: bool
    profile: bool
    sample_s: float
    keep_raw: bool
    out: Path
    command_line: str

    def config(self) -> dict[str, Any]:
        """What collected.json records of the run's configuration."""
        return {
            "command": self.command_line,
            "scenarios": list(self.scenarios),
            "duration_s": self.duration_s,
            "events_duration_s": self.search_scenario_s,
            "vus": self.vus,
            "event_rate": self.event_rate,
            "request_rate": self.request_rate,
            "batch_rate": self.batch_rate,
            "batch_size": self.batch_size,
            "connections": self.connections,
            "connection_counts": list(self.connection_counts),
            "claim_share": self.claim_share,
            "ack_mode": self.ack_mode,
            "quick": self.quick,
            "step_rates": list(self.step_rates),
            "step_s": self.step_s,
            "profile": self.profile,
            "sample_s": self.sample_s,
        }


def parse_duration(text: str) -> float:
    """'90s', '10m', '1.5h', '500ms' or plain seconds → seconds (more than zero); ValueError otherwise."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text.strip())
    if not match or float(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r}: use e.g. 90s, 10m")
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def _counts(text: str) -> tuple[int, ...] | None:
    """'500,1000' → (500, 1000); '' → (); None when not a list of positive integers."""
    if not text:
        return ()
    try:
        counts = tuple(int(item) for item in text.split(","))
    except ValueError:
        return None
    return counts if min(counts) > 0 else None


def parse(
    argv: Sequence[str], environ: Mapping[str, str], choices: Collection[str], results: Path
) -> Options:
    """`argv` without the program name; `choices` are the scenario names; a run without `--out` writes
    to results/<timestamp>. Bad input exits with argparse's usage message."""
    p = argparse.ArgumentParser(prog="bench/run.py", description="make bench: see docs/performance.md")
    p.add_argument("--scenarios", default="sessions", help=f"comma list of {', '.join(choices)}")
    p.add_argument("--vus", type=int, default=150)
    p.add_argument("--event-rate", type=int, default=500)
    p.add_argument("--request-rate", type=int, default=1000)
    p.add_argument("--batch-rate", type=int, default=10_000, help="batch scenario: events per second")
    p.add_argument("--batch-size", type=int, default=100, help="batch scenario: events per call (1..1000)")
    p.add_argument("--connections", default="", help="open gRPC connections: a count, or counts to compare")
    p.add_argument(
        "--duration", default="", help=f"per scenario (default {FULL_DURATION}; QUICK {QUICK_DURATION})"
    )
    p.add_argument("--ack-mode", choices=("durable", "buffered"), default="durable")
    p.add_argument("--quick", action="store_true", help="≈ 2 minute profile")
    p.add_argument(
        "--step-rates", default="", help="step search rates, e.g. 250,500,750 (default: per scenario)"
    )
    p.add_argument("--step-duration", default="", help=f"per step (default {FULL_STEP}; QUICK {QUICK_STEP})")
    p.add_argument("--no-step-search", action="store_true")
    p.add_argument("--profile", action="store_true", help="py-spy flame graph at mid-run")
    p.add_argument("--sample-s", type=float, default=2.0)
    p.add_argument("--keep-raw", action="store_true", help="keep k6's raw CSV time series")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = set(scenarios) - set(choices)
    if unknown or not scenarios:
        p.error(f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(choices)}")
    try:
        duration_s = parse_duration(args.duration or (QUICK_DURATION if args.quick else FULL_DURATION))
        step_s = parse_duration(args.step_duration or (QUICK_STEP if args.quick else FULL_STEP))
    except ValueError as exc:
        p.error(str(exc))
    step_rates = _counts(args.step_rates)
    if step_rates is None:
        p.error(f"bad --step-rates {args.step_rates!r}: positive rates per second, e.g. 500,1000,1500")
    connection_counts = _counts(args.connections)
    if connection_counts is None:
        p.error(f"bad --connections {args.connections!r}: a positive count, or counts such as 50,2000")
    if not 1 <= args.batch_size <= 1000:
        p.error(f"bad --batch-size {args.batch_size}: 1 to 1000 events per call")
    try:
        claim_share = float(environ.get("CLAIM_SHARE", generate.CLAIM_SHARE))
    except ValueError:
        claim_share = -1.0
    if not 0 <= claim_share <= 1:
        p.error(f"bad CLAIM_SHARE {environ.get('CLAIM_SHARE')!r}: a fraction from 0 to 1, e.g. 0.2")
    tuning = [f"{name}={environ[name]}" for name in TUNING_ENV if name in environ]
    return Options(
        scenarios=scenarios,
        vus=args.vus,
        event_rate=args.event_rate,
        request_rate=args.request_rate,
        batch_rate=args.batch_rate,
        batch_size=args.batch_size,
        connections=connection_counts[0] if len(connection_counts) == 1 else 0,
        connection_counts=connection_counts or CONNECTION_COUNTS,
        claim_share=claim_share,
        duration_s=duration_s,
        search_scenario_s=min(duration_s, QUICK_SEARCH_SCENARIO_S) if args.quick else duration_s,
        ack_mode=args.ack_mode,
        quick=args.quick,
        step_rates=step_rates,
        step_s=step_s,
        step_search=not args.no_step_search,
        profile=args.profile,
        sample_s=args.sample_s,
        keep_raw=args.keep_raw,
        out=args.out or results / datetime.now().strftime("%Y%m%d-%H%M%S"),
        command_line=" ".join([*tuning, "bench/run.py", *argv]),
    )
