"""The challenge catalog (`challenges.json`, docs/challenges.md): model, loading with validation, lookups."""

from challenge_service.catalog.catalog import Catalog
from challenge_service.catalog.loader import CatalogError, load_catalog, parse_catalog
from challenge_service.catalog.model import Challenge, Goal, OnExpiry, Requirement, Reward, Rotation
from challenge_service.catalog.validate import validate_document

__all__ = [
    "Catalog",
    "CatalogError",
    "Challenge",
    "Goal",
    "OnExpiry",
    "Requirement",
    "Reward",
    "Rotation",
    "load_catalog",
    "parse_catalog",
    "validate_document",
]
