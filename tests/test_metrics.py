"""Tests of bgmix.metrics: CDnet 2014 counts, figures and sequence evaluation."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

import bgmix.metrics as metrics
from bgmix.metrics import (
    SCORE_NAMES,
    ConfusionCounts,
    SequenceResult,
    evaluate_folders,
    evaluate_sequence,
    load_cdnet_sequence,
    read_mask,
    read_temporal_roi,
)

HIGHWAY = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cdnet2014" \
    / "baseline" / "highway"

U8 = np.uint8


def counts(pred, gt, roi=None) -> tuple[int, int, int, int]:
    c = ConfusionCounts.from_masks(np.asarray(pred, U8), np.asarray(gt, U8),
                                   None if roi is None else np.asarray(roi, U8))
    return c.tp, c.fp, c.fn, c.tn


# ------------------------------------------------------------------ one frame


def test_hand_counted_3x3() -> None:
    gt = [[255, 255, 255],
          [0, 0, 50],
          [50, 85, 170]]
    pred = [[255, 0, 128],      # tp, fn, tp (128 is motion)
            [255, 127, 0],      # fp, tn (127 shadow is not motion), tn (hard shadow)
            [255, 255, 255]]    # fp (hard shadow is negative), ignored, ignored
    assert counts(pred, gt) == (2, 2, 1, 2)


@pytest.mark.parametrize(("label", "pred", "expected"), [
    (255, 255, (1, 0, 0, 0)),
    (255, 0, (0, 0, 1, 0)),
    (0, 255, (0, 1, 0, 0)),
    (0, 0, (0, 0, 0, 1)),
    (50, 255, (0, 1, 0, 0)),      # hard shadow is negative
    (50, 127, (0, 0, 0, 1)),
    (85, 255, (0, 0, 0, 0)),      # outside ROI: ignored
    (85, 0, (0, 0, 0, 0)),
    (170, 255, (0, 0, 0, 0)),     # unknown motion: ignored
    (170, 0, (0, 0, 0, 0)),
])
def test_each_label(label: int, pred: int, expected: tuple[int, ...]) -> None:
    assert counts([[pred]], [[label]]) == expected


@pytest.mark.parametrize(("value", "motion"), [(0, False), (1, False), (127, False),
                                               (128, True), (200, True), (255, True)])
def test_prediction_threshold(value: int, motion: bool) -> None:
    assert counts([[value]], [[255]]) == ((1, 0, 0, 0) if motion else (0, 0, 1, 0))


def test_bool_and_int_predictions() -> None:
    gt = np.array([[255, 0]], U8)
    assert ConfusionCounts.from_masks(np.array([[True, True]]), gt) == ConfusionCounts(1, 1, 0, 0)
    assert ConfusionCounts.from_masks(np.array([[255, 0]]), gt) == ConfusionCounts(1, 0, 0, 1)


def test_three_channel_masks_use_channel_0() -> None:
    gt = np.array([[255, 0]], U8)
    pred = np.zeros((1, 2, 3), U8)
    pred[0, 0, 0] = 255
    pred[0, 1, 1:] = 255            # only channels 1-2: not motion
    assert ConfusionCounts.from_masks(pred, np.dstack([gt] * 3)) == ConfusionCounts(1, 0, 0, 1)


def test_roi_zero_pixels_ignored() -> None:
    gt = [[255, 255], [0, 0]]
    pred = [[255, 0], [255, 0]]
    assert counts(pred, gt) == (1, 1, 1, 1)
    assert counts(pred, gt, roi=[[255, 0], [0, 255]]) == (1, 0, 0, 1)
    assert counts(pred, gt, roi=[[0, 0], [0, 0]]) == (0, 0, 0, 0)
    # any non-zero value is inside; 3-channel ROI uses channel 0
    roi3 = np.zeros((2, 2, 3), U8)
    roi3[0, 0, 0] = 1
    roi3[1, 1, 2] = 255
    c = ConfusionCounts.from_masks(np.array(pred, U8), np.array(gt, U8), roi3)
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 0, 0, 0)


def test_figures_hand_computed() -> None:
    c = ConfusionCounts(tp=6, fp=2, fn=3, tn=9)
    assert c.recall == pytest.approx(6 / 9)
    assert c.specificity == pytest.approx(9 / 11)
    assert c.fpr == pytest.approx(2 / 11)
    assert c.fnr == pytest.approx(3 / 9)
    assert c.pwc == pytest.approx(100 * 5 / 20)
    assert c.precision == pytest.approx(6 / 8)
    p, r = 6 / 8, 6 / 9
    assert c.f_measure == pytest.approx(2 * p * r / (p + r))
    assert list(c.scores()) == list(SCORE_NAMES)
    assert (c.total, c.positives, c.negatives) == (20, 9, 11)


def test_zero_denominators_are_nan_not_errors() -> None:
    # a frame without positives, predicted all background
    c = ConfusionCounts.from_masks(np.zeros((3, 3), U8), np.zeros((3, 3), U8))
    assert c == ConfusionCounts(tn=9)
    assert math.isnan(c.recall) and math.isnan(c.fnr) and math.isnan(c.precision)
    assert math.isnan(c.f_measure)
    assert (c.specificity, c.fpr, c.pwc) == (1.0, 0.0, 0.0)
    # no positives but false alarms: F is 0 (a defined miss), recall still undefined
    c = ConfusionCounts(fp=3, tn=6)
    assert c.f_measure == 0.0 and c.precision == 0.0 and math.isnan(c.recall)
    # positives missed, nothing predicted: precision undefined, F = 0
    c = ConfusionCounts(fn=4)
    assert math.isnan(c.precision) and c.recall == 0.0 and c.f_measure == 0.0
    assert math.isnan(c.specificity) and math.isnan(c.fpr)
    # nothing scored at all
    empty = ConfusionCounts()
    assert all(math.isnan(v) for v in empty.scores().values())
    d = empty.to_dict()
    assert all(d[name] is None for name in SCORE_NAMES)
    json.dumps(d, allow_nan=False)


def test_counts_addition_and_validation() -> None:
    a, b = ConfusionCounts(1, 2, 3, 4), ConfusionCounts(10, 20, 30, 40)
    assert a + b == ConfusionCounts(11, 22, 33, 44)
    assert sum([a, b]) == ConfusionCounts(11, 22, 33, 44)
    c = ConfusionCounts(np.int64(5), 0, 0, 0)
    assert type(c.tp) is int
    with pytest.raises(ValueError, match="tp must be >= 0"):
        ConfusionCounts(tp=-1)
    with pytest.raises(ValueError, match="fn must be an integer"):
        ConfusionCounts(fn=1.5)
    with pytest.raises(TypeError, match="unsupported operand"):
        a + 1  # noqa: B018


def test_from_masks_counts_are_python_ints() -> None:
    c = ConfusionCounts.from_masks(np.full((4, 4), 255, U8), np.full((4, 4), 255, U8))
    assert all(type(v) is int for v in (c.tp, c.fp, c.fn, c.tn))


def test_from_masks_matches_naive_count() -> None:
    rng = np.random.default_rng(0)
    gt = rng.choice(np.array([0, 50, 85, 170, 255], U8), size=(37, 53))
    pred = rng.integers(0, 256, size=(37, 53), dtype=U8)
    roi = rng.integers(0, 2, size=(37, 53), dtype=U8) * 255
    motion, inside = pred >= 128, roi != 0
    pos, neg = (gt == 255) & inside, ((gt == 0) | (gt == 50)) & inside
    expected = ConfusionCounts(int((motion & pos).sum()), int((motion & neg).sum()),
                               int((~motion & pos).sum()), int((~motion & neg).sum()))
    assert ConfusionCounts.from_masks(pred, gt, roi) == expected


def test_from_masks_errors() -> None:
    with pytest.raises(ValueError, match=r"prediction shape \(2, 3\).*ground-truth shape \(3, 2\)"):
        ConfusionCounts.from_masks(np.zeros((2, 3), U8), np.zeros((3, 2), U8))
    with pytest.raises(ValueError, match=r"roi shape \(2, 2\)"):
        ConfusionCounts.from_masks(np.zeros((3, 3), U8), np.zeros((3, 3), U8), np.ones((2, 2)))
    with pytest.raises(ValueError, match="values other than the CDnet labels .*127"):
        ConfusionCounts.from_masks(np.zeros((1, 2), U8), np.array([[0, 127]], U8))
    with pytest.raises(ValueError, match="uint8"):
        ConfusionCounts.from_masks(np.zeros((2, 2), np.float32), np.zeros((2, 2), U8))
    with pytest.raises(ValueError, match="outside"):
        ConfusionCounts.from_masks(np.full((2, 2), 65535, np.uint16), np.zeros((2, 2), U8))
    with pytest.raises(ValueError, match=r"shape \(H, W\)"):
        ConfusionCounts.from_masks(np.zeros(4, U8), np.zeros(4, U8))


def test_invalid_labels_outside_roi_are_ignored() -> None:
    c = ConfusionCounts.from_masks(np.zeros((1, 2), U8), np.array([[0, 7]], U8),
                                   np.array([[1, 0]], U8))
    assert c == ConfusionCounts(tn=1)


# ------------------------------------------------------------------ sequences


def _two_frame_case() -> tuple[np.ndarray, np.ndarray]:
    """Frame 1: 1 tp, 1 fp (F 2/3); frame 2: 9 tp, 1 fn (F 18/19)."""
    gt = np.zeros((2, 4, 4), U8)
    pred = np.zeros((2, 4, 4), U8)
    gt[0, 0, 0] = 255
    pred[0, 0, 0] = pred[0, 0, 1] = 255
    gt[1].flat[:10] = 255
    pred[1].flat[:9] = 255
    return pred, gt


def test_counts_summed_before_ratios() -> None:
    pred, gt = _two_frame_case()
    r = evaluate_sequence(pred, gt)
    assert r.counts == ConfusionCounts(tp=10, fp=1, fn=1, tn=20)
    summed = 2 * 10 / (2 * 10 + 1 + 1)                     # 10/11 = 0.909...
    averaged = (2 / 3 + 18 / 19) / 2                        # 0.807...
    assert r.f_measure == pytest.approx(summed)
    assert abs(r.f_measure - averaged) > 0.05
    np.testing.assert_allclose(r.frame_scores("f_measure"), [2 / 3, 18 / 19])
    assert r.scores() == r.counts.scores()
    assert r.n_frames == 2 and (r.first_frame, r.last_frame) == (1, 2)


def test_empty_positive_frames_in_a_sequence() -> None:
    gt = np.zeros((3, 2, 2), U8)
    pred = np.zeros((3, 2, 2), U8)
    gt[2, 0, 0] = pred[2, 0, 0] = 255             # only the last frame has motion
    r = evaluate_sequence(pred, gt)
    f = r.frame_scores("f_measure")
    assert math.isnan(f[0]) and math.isnan(f[1]) and f[2] == 1.0
    assert r.f_measure == 1.0
    assert np.nanmean(f) == 1.0
    json.dumps(r.to_dict(), allow_nan=False)


def test_temporal_roi_is_1_based_inclusive() -> None:
    n = 6
    gt = np.zeros((n, 1, 1), U8)
    pred = np.zeros((n, 1, 1), U8)
    gt[:, 0, 0] = 255
    pred[[1, 2, 3], 0, 0] = 255                   # frames 2, 3, 4 detected
    r = evaluate_sequence(pred, gt, temporal_roi=(2, 4))
    assert r.counts == ConfusionCounts(tp=3)
    assert sorted(r.frame_counts) == [2, 3, 4]
    assert (r.first_frame, r.last_frame, r.temporal_roi) == (2, 4, (2, 4))
    r = evaluate_sequence(pred, gt, temporal_roi=(4, 5))
    assert r.counts == ConfusionCounts(tp=1, fn=1)
    r = evaluate_sequence(pred, gt, temporal_roi=(1, 1))
    assert r.counts == ConfusionCounts(fn=1)


def test_temporal_roi_stops_consuming_a_live_stream() -> None:
    consumed = []

    def stream():
        for i in range(10**6):
            consumed.append(i)
            yield np.full((2, 2), 255, U8)

    gt = (np.full((2, 2), 255, U8) for _ in range(10**6))
    r = evaluate_sequence(stream(), gt, temporal_roi=(3, 5), keep_frames=False)
    assert len(consumed) == 5
    assert r.counts == ConfusionCounts(tp=12) and r.frame_counts is None
    with pytest.raises(ValueError, match="keep_frames"):
        r.frame_scores()


def test_roi_in_sequence() -> None:
    pred, gt = _two_frame_case()
    roi = np.zeros((4, 4), U8)
    roi[0] = 255                                   # only the first row counts
    r = evaluate_sequence(pred, gt, roi=roi)
    assert r.counts == ConfusionCounts(tp=1 + 4, fp=1, fn=0, tn=2)


def test_sequence_errors() -> None:
    pred, gt = _two_frame_case()
    bad = [pred[0], np.zeros((4, 5), U8)]
    with pytest.raises(ValueError, match=r"frame 2: prediction shape \(4, 5\).*\(4, 4\)"):
        evaluate_sequence(bad, gt)
    with pytest.raises(ValueError, match="predictions end after frame 1"):
        evaluate_sequence(pred[:1], gt)
    assert evaluate_sequence(pred[:1], gt, require_all=False).n_frames == 1
    with pytest.raises(ValueError, match="ground truth ends after 2 frames"):
        evaluate_sequence(np.concatenate([pred, pred]), gt)
    with pytest.raises(ValueError, match="predictions end after frame 2"):
        evaluate_sequence(pred, gt, temporal_roi=(1, 3))
    with pytest.raises(ValueError, match="ground truth goes on"):
        evaluate_sequence(list(pred[:1]), iter(gt))
    with pytest.raises(ValueError, match="sequence of masks"):
        evaluate_sequence(pred[0], gt)
    for tr in [(0, 3), (3, 2), (1,), (1.0, 2)]:
        with pytest.raises(ValueError, match="temporal_roi"):
            evaluate_sequence(pred, gt, temporal_roi=tr)


def test_to_dict_is_json() -> None:
    pred, gt = _two_frame_case()
    d = evaluate_sequence(pred, gt, temporal_roi=(2, 2)).to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["counts"] == {"tp": 9, "fp": 0, "fn": 1, "tn": 6}
    assert back["temporal_roi"] == [2, 2] and back["n_frames"] == 1
    assert back["frames"] == [{"frame": 2, "tp": 9, "fp": 0, "fn": 1, "tn": 6}]
    assert back["scores"]["f_measure"] == pytest.approx(18 / 19)
    assert set(back["scores"]) == set(SCORE_NAMES)
    assert evaluate_sequence(pred, gt, keep_frames=False).to_dict()["frames"] is None


# ------------------------------------------------------------------ folders


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


def _cdnet_folder(root: Path, gt: np.ndarray, roi: np.ndarray | None,
                  temporal: tuple[int, int] | None, three_channel: bool = True) -> Path:
    seq = root / "seq"
    for n, frame in enumerate(gt, start=1):
        _write(seq / "groundtruth" / f"gt{n:06d}.png",
               np.dstack([frame] * 3) if three_channel else frame)
    if roi is not None:
        _write(seq / "ROI.bmp", np.dstack([roi] * 3))
    if temporal is not None:
        (seq / "temporalROI.txt").write_text(f"{temporal[0]} {temporal[1]}\n")
    return seq


def test_folder_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, h, w = 7, 9, 11
    gt = rng.choice(np.array([0, 50, 85, 170, 255], U8), size=(n, h, w))
    pred = rng.choice(np.array([0, 127, 255], U8), size=(n, h, w))
    roi = np.full((h, w), 255, U8)
    roi[:, :3] = 0
    seq = _cdnet_folder(tmp_path, gt, roi, (3, 6))
    preds = tmp_path / "pred"
    for i, mask in enumerate(pred, start=1):                 # 3-channel prediction PNGs
        _write(preds / f"bin{i:06d}.png", np.dstack([mask] * 3))

    loaded = load_cdnet_sequence(seq)
    assert loaded.n_frames == n and loaded.temporal_roi == (3, 6)
    assert loaded.roi.shape == (h, w) and loaded.roi.dtype == U8
    np.testing.assert_array_equal(loaded.ground_truth(4), gt[3])
    assert list(loaded.frames()) == [3, 4, 5, 6]

    expected = evaluate_sequence(pred, gt, roi=roi, temporal_roi=(3, 6))
    from_folders = evaluate_folders(preds, seq)
    from_seq_dir = evaluate_sequence(pred, seq)                   # folder as ground truth
    from_loaded = evaluate_sequence(iter(pred), loaded)
    for r in (from_folders, from_seq_dir, from_loaded):
        assert r.counts == expected.counts
        assert r.frame_counts == expected.frame_counts
        assert r.temporal_roi == (3, 6) and r.n_frames == 4
    manual = sum(ConfusionCounts.from_masks(pred[i], gt[i], roi) for i in range(2, 6))
    assert from_folders.counts == manual
    # overrides win over the folder's files
    r = evaluate_folders(preds, seq, roi=np.ones((h, w), U8), temporal_roi=(1, 7))
    assert r.counts == evaluate_sequence(pred, gt).counts


def test_folder_without_roi_files(tmp_path: Path) -> None:
    gt = np.zeros((3, 2, 2), U8)
    gt[:, 0, 0] = 255
    seq = _cdnet_folder(tmp_path, gt, None, None, three_channel=False)
    loaded = load_cdnet_sequence(seq)
    assert loaded.roi is None and loaded.temporal_roi is None
    preds = tmp_path / "pred"
    for i, frame in enumerate(gt, start=1):
        _write(preds / f"bin{i:06d}.png", frame)
    r = evaluate_folders(preds, seq)
    assert r.n_frames == 3 and r.temporal_roi is None and r.f_measure == 1.0
    with pytest.raises(ValueError, match="ground truth .*gt000004.png does not exist"):
        evaluate_sequence(np.concatenate([gt, gt[:1]]), seq)


def test_folder_missing_prediction_is_named(tmp_path: Path) -> None:
    gt = np.zeros((5, 2, 2), U8)
    seq = _cdnet_folder(tmp_path, gt, None, (2, 4))
    preds = tmp_path / "pred"
    for i in (2, 4, 5):                                          # frame 3 missing
        _write(preds / f"bin{i:06d}.png", gt[0])
    with pytest.raises(FileNotFoundError, match=r"bin000003\.png \(frame 3\)"):
        evaluate_folders(preds, seq)
    # frame 1 is outside the temporal ROI: not needed
    _write(preds / "bin000003.png", gt[0])
    assert evaluate_folders(preds, seq).n_frames == 3
    with pytest.raises(FileNotFoundError, match="prediction folder"):
        evaluate_folders(tmp_path / "nope", seq)


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="groundtruth"):
        load_cdnet_sequence(tmp_path)
    gt = np.zeros((2, 3, 3), U8)
    seq = _cdnet_folder(tmp_path, gt, None, (1, 2))
    preds = tmp_path / "pred"
    _write(preds / "bin000001.png", np.zeros((3, 3), U8))
    _write(preds / "bin000002.png", np.zeros((3, 4), U8))
    with pytest.raises(ValueError, match=r"frame 2: prediction shape \(3, 4\).*\(3, 3\)"):
        evaluate_folders(preds, seq)
    (seq / "temporalROI.txt").write_text("5 2\n")
    with pytest.raises(ValueError, match="first <= last"):
        load_cdnet_sequence(seq)
    (seq / "temporalROI.txt").write_text("abc\n")
    with pytest.raises(ValueError, match="two integers"):
        read_temporal_roi(seq / "temporalROI.txt")
    (seq / "temporalROI.txt").write_text("1 3\n")                   # beyond the ground truth
    _write(preds / "bin000002.png", np.zeros((3, 3), U8))
    _write(preds / "bin000003.png", np.zeros((3, 3), U8))
    with pytest.raises(FileNotFoundError, match=r"frame 3: ground truth .*gt000003\.png"):
        evaluate_folders(preds, seq)
    with pytest.raises(FileNotFoundError, match=r"no such file: .*missing\.png"):
        read_mask(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot decode"):
        read_mask(tmp_path / "junk.png")


def test_doctests() -> None:
    assert doctest.testmod(metrics, optionflags=doctest.ELLIPSIS).failed == 0


def test_no_cv2_at_import() -> None:
    """bgmix.metrics imports without OpenCV (cv2 is only imported inside the readers)."""
    import subprocess
    import sys
    code = (
        "import sys, importlib.util\n"
        "sys.modules['cv2'] = None  # any 'import cv2' now fails\n"
        f"spec = importlib.util.spec_from_file_location('m', {metrics.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['m'] = m\n"
        "spec.loader.exec_module(m)\n"
        "print(m.ConfusionCounts(tp=1).recall)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1.0"


# ------------------------------------------------------------------ real data


@pytest.fixture
def highway() -> Path:
    if not (HIGHWAY / "groundtruth").is_dir():
        pytest.skip("../shared/data/cdnet2014/baseline/highway is not available")
    return HIGHWAY


def test_highway_ground_truth_against_itself(highway: Path) -> None:
    seq = load_cdnet_sequence(highway)
    assert seq.temporal_roi == (470, 1700)
    assert seq.n_frames == 1700
    assert seq.roi is not None and seq.roi.shape == (240, 320)
    first, last = seq.temporal_roi

    def predictions():
        blank = np.zeros((240, 320), U8)
        for n in range(1, last + 1):
            yield blank if n < first else np.where(seq.ground_truth(n) == 255, 255, 0).astype(U8)

    result = evaluate_sequence(predictions(), seq, keep_frames=False)
    assert isinstance(result, SequenceResult)
    assert result.n_frames == last - first + 1
    assert result.fp == 0 and result.fn == 0 and result.tp > 0
    assert result.f_measure == 1.0 and result.pwc == 0.0
