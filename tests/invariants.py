"""The one invariant checker of the tests: the library's own, plus the mask's values."""

from __future__ import annotations

import numpy as np

from bgmix._validation import state_invariant_violations


def check_invariants(model, mask: np.ndarray, *, detect_shadows: bool = True) -> None:
    """Assert :func:`bgmix._validation.state_invariant_violations` finds nothing, every
    pixel keeps a live component, and ``mask`` holds only 0, the shadow value and 255."""
    assert state_invariant_violations(model) == []
    live = model.n_components_
    assert live.min() >= 1 and live.max() <= model.n_components
    allowed = {0, model.shadow_value, 255} if detect_shadows else {0, 255}
    assert set(np.unique(mask)) <= allowed
