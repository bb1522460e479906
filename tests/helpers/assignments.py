"""Assignment tests' shared ground: the initialize route and the instant the tests start at."""

from __future__ import annotations

from datetime import UTC, datetime

INITIALIZE = "/challenge/v1/challenges/initialize"
# A Wednesday, mid-morning.
T0 = datetime(2025, 3, 12, 10, 30, 15, tzinfo=UTC)
