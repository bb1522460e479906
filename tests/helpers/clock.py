"""A clock the test sets by hand, so rotation and expiry tests move time instead of sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now
