"""Shared fixtures: paths to the optional shared data; tests on it are marked slow."""

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the shared CDnet data run whole real sequences: mark them slow."""
    for item in items:
        if "highway_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
