from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.helpers.catalog_cases import VALID_DOCUMENT


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh copy of a valid catalog document that the test may change freely."""
    return copy.deepcopy(VALID_DOCUMENT)
