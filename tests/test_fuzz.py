"""Property-based tests of ``BackgroundMixture.apply`` (hypothesis).

Random small frames (uint8, uint16 or float32 over the whole float32 range;
1 or 3 channels; 1 to 16 pixels a side), random valid parameters over all
four covariance types, and a short sequence of frames with random learning
rates (automatic, negative, frozen, in (0, 1), re-initialise) and, now and
then, a known-foreground mask. After every ``apply``: no exception, and the
state keeps the mixture's invariants
(:func:`bgmix._validation.state_invariant_violations`: nothing NaN or inf,
weights non-negative, live weights summing to 1 where a pixel has a live
component, variances and covariance diagonals within ``[var_min, var_max]``,
covariances positive definite), the mask holds only 0, ``shadow_value`` and
255, the probability lies in [0, 1] and is >= 0.5 exactly where the mask is
not 0, and the log-likelihood is never NaN.

Kept small enough for CI (``max_examples`` modest, whole file well under a
minute including compilation); set ``BGMIX_FUZZ_EXAMPLES`` to run more.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from bgmix import BackgroundMixture  # noqa: E402
from bgmix._validation import state_invariant_violations  # noqa: E402
from bgmix.model import COVARIANCE_TYPES  # noqa: E402
from tests.mixtures import plain_mixture

EXAMPLES = int(os.environ.get("BGMIX_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = (np.uint8, np.uint16, np.float32)


@st.composite
def parameters(draw) -> dict:
    """Any valid set of constructor parameters (the allowed ranges of the docstring)."""
    var_min = draw(st.floats(0.01, 50.0))
    var_max = draw(st.floats(var_min, 500.0))
    return {
        "n_components": draw(st.integers(1, 8)),
        "covariance_type": draw(st.sampled_from(COVARIANCE_TYPES)),
        "history": draw(st.integers(1, 1000)),
        "var_threshold": draw(st.floats(0.01, 200.0)),
        "var_threshold_gen": draw(st.floats(0.01, 200.0)),
        "background_ratio": draw(st.floats(0.01, 1.0)),
        "var_min": var_min,
        "var_max": var_max,
        "var_init": draw(st.floats(var_min, var_max)),
        "complexity_reduction": draw(st.floats(0.0, 0.99)),
        "detect_shadows": draw(st.booleans()),
        "shadow_value": draw(st.integers(0, 255)),
        "shadow_threshold": draw(st.floats(0.01, 1.0)),
    }


def frame_elements(dtype):
    if dtype == np.float32:
        # The whole finite float32 range, subnormals and signed zeros included.
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    return st.integers(0, int(np.iinfo(dtype).max))


@st.composite
def sequences(draw) -> tuple[np.ndarray, list, list]:
    """(frames (T, H, W[, C]), learning rates, known-foreground masks or None)."""
    dtype = draw(st.sampled_from(DTYPES))
    channels = draw(st.sampled_from((1, 3)))
    height, width = draw(st.integers(1, 16)), draw(st.integers(1, 16))
    n_frames = draw(st.integers(1, 6))
    shape = (n_frames, height, width) + ((3,) if channels == 3 else ())
    style = draw(st.sampled_from(("any", "steady")))
    if style == "any":
        frames = draw(hnp.arrays(dtype, shape, elements=frame_elements(dtype)))
    else:
        # A steady background with noise and a few outliers: components are
        # matched, learned and pruned, not only created.
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        top = 255.0 if dtype != np.uint16 else 65535.0
        base = rng.uniform(0, top, shape[1:])
        noise = rng.normal(0, draw(st.floats(0.0, 20.0)), shape)
        frames = base + noise
        jumps = rng.random(shape[:3]) < 0.1
        frames[jumps] = rng.uniform(0, top, frames[jumps].shape)
        frames = np.clip(frames, 0, top).astype(dtype)
    # Any rate in [0, 1], subnormal ones included (a subnormal rate can round
    # a matched component's new weight to 0: see
    # test_subnormal_learning_rate_writes_no_nan below).
    rates = draw(st.lists(
        st.one_of(st.none(), st.sampled_from((-1.0, 0.0, 1.0)), st.floats(0.0, 1.0)),
        min_size=n_frames, max_size=n_frames))
    known = draw(st.lists(
        st.one_of(st.none(), hnp.arrays(np.bool_, (height, width))),
        min_size=n_frames, max_size=n_frames))
    return frames, rates, known


def check_apply_outputs(model, mask, probability, log_likelihood):
    assert mask.dtype == np.uint8
    allowed = {0, model.shadow_value, 255} if model.detect_shadows else {0, 255}
    assert set(np.unique(mask).tolist()) <= allowed
    assert not np.isnan(probability).any()
    assert ((probability >= 0) & (probability <= 1)).all()
    # Background exactly where p < 0.5 (a shadow is foreground with
    # shadow_value, which may itself be 0).
    foreground = probability >= 0.5
    assert (mask[~foreground] == 0).all()
    foreground_values = [255, model.shadow_value] if model.detect_shadows else [255]
    assert np.isin(mask[foreground], foreground_values).all()
    assert not np.isnan(log_likelihood).any()
    problems = state_invariant_violations(model)
    assert problems == [], problems


@FUZZ
@given(params=parameters(), sequence=sequences())
def test_apply_keeps_the_invariants(params, sequence):
    frames, rates, known = sequence
    model = plain_mixture(**params)
    shape = frames.shape[1:3]
    probability = np.empty(shape, np.float32)
    log_likelihood = np.empty(shape, np.float32)
    for frame, rate, known_foreground in zip(frames, rates, known):
        mask = model.apply(frame, learning_rate=rate, known_foreground=known_foreground,
                           probability=probability, log_likelihood=log_likelihood)
        check_apply_outputs(model, mask, probability, log_likelihood)
    assert model.n_frames_seen_ >= 1
    background = model.background_image()
    assert background.shape == frames.shape[1:] and background.dtype == frames.dtype
    assert np.isfinite(background.astype(np.float64)).all()
    scores = model.score_samples(frames[-1])
    assert not np.isnan(scores).any()


@FUZZ
@given(params=parameters(), sequence=sequences())
def test_frozen_model_classifies_without_changing_the_state(params, sequence):
    """learning_rate=0 after the first frame: the state's weights may be
    renormalised, but means and (co)variances do not move."""
    frames, _, _ = sequence
    model = plain_mixture(**params)
    model.apply(frames[0])
    cov = "covariances_" if model.covariance_type in ("full", "tied") else "variances_"
    means, covariances = model.means_.copy(), getattr(model, cov).copy()
    live = model.n_components_.copy()
    for frame in frames[1:]:
        model.apply(frame, learning_rate=0)
        np.testing.assert_array_equal(model.means_, means)
        np.testing.assert_array_equal(getattr(model, cov), covariances)
        np.testing.assert_array_equal(model.n_components_, live)
    assert state_invariant_violations(model) == []


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_all_components_pruned_keeps_weights_summing_to_one(covariance_type):
    """The minimal example hypothesis found (shrunk): one grey pixel, 162, 163,
    162 at the automatic rate with history=2 (alpha = 1/2 on the third frame)
    and complexity_reduction=0.5. On the third frame component 0 (mean 163,
    weight 1/2) decays to exactly 0 and is pruned, which ends the loop before
    component 1 (mean 162, the match) is visited; the total is 0, and the new
    component got weight alpha = 0.5 (as OpenCV MOG2), leaving the live
    weights summing to 0.5. It now takes weight 1."""
    model = plain_mixture(
        n_components=2, covariance_type=covariance_type, history=2, var_threshold=1.0,
        var_threshold_gen=1.0, background_ratio=1.0, var_min=1.0, var_max=1.0, var_init=1.0,
        complexity_reduction=0.5, detect_shadows=False)
    for value in (162, 163, 162):
        model.apply(np.array([[value]], np.uint8))
    assert state_invariant_violations(model) == []


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_matched_component_pruned_keeps_weights_summing_to_one(covariance_type):
    """Found by hypothesis once the test above passed: 162, 163, 162 with
    history=3, complexity_reduction=0.75 and learning_rate=0.75 on the third
    frame. The pruning threshold ``alpha c_T`` (0.5625) then exceeds what a
    match can weigh, ``(1 - alpha) w - alpha c_T + alpha <= 0.4375``, so the
    *matched* component is pruned too, and the weights summed to 0; the
    sample now starts a component of weight 1."""
    model = plain_mixture(
        n_components=2, covariance_type=covariance_type, history=3, var_threshold=1.0,
        var_threshold_gen=1.0, background_ratio=1.0, var_min=1.0, var_max=1.0, var_init=1.0,
        complexity_reduction=0.75, detect_shadows=False)
    for value, rate in [(162, None), (163, None), (162, 0.75)]:
        model.apply(np.array([[value]], np.uint8), learning_rate=rate)
        assert state_invariant_violations(model) == []
    heaviest = model.means_[0, :, 0, 0]
    np.testing.assert_array_equal(heaviest, np.full_like(heaviest, 162.0))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_subnormal_learning_rate_writes_no_nan(covariance_type):
    """Found by hypothesis (shrunk by hand to one pixel). The first three frames
    (automatic rate, history=3, complexity_reduction=0.75) leave a live
    component of weight exactly 0 with mean (238, 208, 0). The fourth frame
    matches it at learning_rate=1.4e-45 (the smallest float32): its new weight
    ``(1 - a) 0 - a c_T + a`` rounds to 0, the kernel's gain ``a / weight`` is
    inf and ``mean += inf * 0`` makes the mean NaN; the component is then
    pruned, so the NaN sits in a dead slot here, but it can stay live when a
    live component follows (OpenCV's pruning shortens the loop). The kernels
    now learn a matched component only when its new weight is > 0."""
    model = plain_mixture(
        n_components=2, covariance_type=covariance_type, history=3, var_threshold=1.0,
        var_threshold_gen=1.0, background_ratio=1.0, var_min=1.0, var_max=1.0, var_init=1.0,
        complexity_reduction=0.75, detect_shadows=False)
    for value, rate in [((238, 208, 0), None), ((244, 236, 190), None),
                        ((170, 182, 42), None), ((238, 208, 0), 1.401298464324817e-45)]:
        model.apply(np.array([[value]], np.uint8), learning_rate=rate)
    assert np.isfinite(model.means_).all()


def test_background_image_at_float32_max_is_finite():
    """Found by hypothesis: a float32 frame at its largest finite value. The
    weights sum to 0.99999994 in float32, so ``sum(w mu) * (1 / total)``
    exceeds the largest float32 and the background image is inf (dividing
    each weight by the total first, or clamping to the largest mean, avoids it)."""
    model = plain_mixture()
    frame = np.full((1, 1), np.finfo(np.float32).max, np.float32)
    for _ in range(3):
        model.apply(frame)
    assert np.isfinite(model.background_image()).all()
