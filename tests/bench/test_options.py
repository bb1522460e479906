"""The bench's command line: the Makefile's knobs, their defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

import options

CHOICES = ("sessions", "api", "events", "batch", "combined", "connections")
RESULTS = Path("/nonexistent/results")


def parse(*argv: str, **environ: str) -> options.Options:
    return options.parse(list(argv), environ, CHOICES, RESULTS)


def test_defaults_and_the_quick_profile() -> None:
    full = parse()
    assert (full.scenarios, full.duration_s, full.search_scenario_s, full.step_s) == (
        ("sessions",),
        600,
        600,
        15,
    )
    assert full.step_rates == ()  # each step search's own rates
    assert (full.batch_rate, full.batch_size, full.connections) == (10_000, 100, 0)
    assert full.connection_counts == options.CONNECTION_COUNTS
    assert full.step_search
    quick = parse("--quick", "--scenarios", "api, events")
    assert (quick.scenarios, quick.duration_s, quick.search_scenario_s, quick.step_s) == (
        ("api", "events"),
        75,
        20,
        6,
    )
    assert quick.out.parent == RESULTS


def test_knobs_and_the_environment_reach_the_options_and_the_reproduce_line() -> None:
    o = parse(
        "--scenarios",
        "events",
        "--duration",
        "90s",
        "--step-rates",
        "100,200",
        "--no-step-search",
        "--out",
        "/tmp/x",
        FLUSH_INTERVAL_MS="40",
        CLAIM_SHARE="0",
        UNRELATED="1",
    )
    assert (o.duration_s, o.step_rates, o.step_search, o.out, o.claim_share) == (
        90,
        (100, 200),
        False,
        Path("/tmp/x"),
        0.0,
    )
    assert o.command_line.startswith("FLUSH_INTERVAL_MS=40 CLAIM_SHARE=0 bench/run.py --scenarios events")
    assert "UNRELATED" not in o.command_line
    assert o.config()["events_duration_s"] == 90
    assert parse().claim_share == 0.2


def test_one_connection_count_is_held_by_every_event_scenario_several_are_compared() -> None:
    one = parse("--connections", "2000")
    assert (one.connections, one.connection_counts) == (2000, (2000,))
    several = parse("--connections", "50,2000", "--batch-rate", "20000", "--batch-size", "250")
    assert (several.connections, several.connection_counts) == (0, (50, 2000))
    assert (several.batch_rate, several.batch_size) == (20_000, 250)
    assert several.config()["connection_counts"] == [50, 2000]


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--scenarios", "sessions,bogus"], {}, "unknown scenario(s) ['bogus']"),
        (["--scenarios", " , "], {}, "unknown scenario(s) []"),
        (["--duration", "ten minutes"], {}, "bad duration 'ten minutes'"),
        (["--step-duration=-5s"], {}, "bad duration '-5s'"),
        (["--duration", "0m"], {}, "bad duration '0m'"),
        (["--step-rates", "500,fast"], {}, "bad --step-rates '500,fast'"),
        (["--step-rates", "0,500"], {}, "bad --step-rates '0,500'"),
        (["--connections", "50,many"], {}, "bad --connections '50,many'"),
        (["--connections", "0"], {}, "bad --connections '0'"),
        (["--batch-size", "1001"], {}, "bad --batch-size 1001"),
        (["--batch-size", "0"], {}, "bad --batch-size 0"),
        ([], {"CLAIM_SHARE": "lots"}, "bad CLAIM_SHARE 'lots'"),
        ([], {"CLAIM_SHARE": "1.5"}, "bad CLAIM_SHARE '1.5'"),
    ],
)
def test_bad_input_stops_with_a_clear_message(
    argv: list[str], environ: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv, **environ)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("1.5h", 5400), ("250ms", 0.25), ("42", 42)]
)
def test_durations(text: str, seconds: float) -> None:
    assert options.parse_duration(text) == seconds
