"""The bench's modules are scripts in bench/ that import each other as top-level modules (bench/run.py
puts the directory on sys.path); the tests do the same. Only the pure parts are tested here: nothing
that needs k6, psutil or matplotlib, which `make test` does not install."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
