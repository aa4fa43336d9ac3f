"""Shared fixtures: paths to the optional shared data, small scenes."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
HIGHWAY = SHARED_DATA / "cdnet2014" / "baseline" / "highway"


@pytest.fixture
def highway_dir() -> Path:
    """The CDnet 2014 highway sequence, or skip when ../shared is absent."""
    if not (HIGHWAY / "input").is_dir():
        pytest.skip("../shared/data/cdnet2014/baseline/highway is not available")
    return HIGHWAY
