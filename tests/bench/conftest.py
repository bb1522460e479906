"""The bench's modules are scripts in bench/ that import each other as top-level modules (bench/run.py
puts the directory on sys.path); the tests do the same. Only the pure parts are tested here: nothing
that needs k6, psutil or matplotlib, which `make test` does not install."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def run() -> dict[str, Any]:
    """collected.json of a recorded run: two short k6 runs on this machine (api, and events with its
    step search) as collected by bench/run.py."""
    data: dict[str, Any] = json.loads((FIXTURES / "collected.json").read_text())
    return data


@pytest.fixture
def summary() -> dict[str, Any]:
    """k6's --summary-export of the recorded api run."""
    data: dict[str, Any] = json.loads((FIXTURES / "k6-summary-api.json").read_text())
    return data


@pytest.fixture
def batch_run() -> dict[str, Any]:
    """collected.json of a recorded run of api, events, batch and connections (short steps, 50 and
    500 connections), its service metrics and samples trimmed."""
    data: dict[str, Any] = json.loads((FIXTURES / "collected-batch.json").read_text())
    return data
