"""bgmix.pipeline: the source -> model -> postprocess -> blobs loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bgmix.blobs import Blobs
from bgmix.model import BackgroundMixture
from bgmix.pipeline import FrameResult, ProcessStats, Processing, process
from bgmix.postprocess import Postprocess, clean_mask
from bgmix.sources import ArraySource, VideoFileSource
from bgmix.synth import make_scene
from tests.media import bgmix_threads, write_video
from tests.mixtures import plain_mixture

N = 60


@pytest.fixture(scope="module")
def scene():
    return make_scene("baseline", height=48, width=64, n_frames=N, seed=0)


def test_yields_one_result_per_frame_with_increasing_index(scene) -> None:
    with process(ArraySource(scene.frames)) as results:
        assert isinstance(results, Processing)
        out = list(results)
    assert len(out) == N
    assert all(isinstance(r, FrameResult) for r in out)
    assert [r.index for r in out] == list(range(N))
    stamps = [r.timestamp for r in out]
    assert stamps[0] >= 0 and stamps == sorted(stamps)
    assert all(r.latency_s >= 0 for r in out)
    for r, frame in zip(out, scene.frames):
        np.testing.assert_array_equal(r.frame, frame)
        assert r.probability is None
        assert isinstance(r.blobs, Blobs)
        assert r.mask is r.raw_mask  # no postprocess: the raw mask itself


def test_masks_equal_running_the_model_directly(scene) -> None:
    direct = plain_mixture()
    expected = [direct.apply(frame).copy() for frame in scene.frames]
    model = plain_mixture()
    results = list(process(scene.frames, model))
    assert len(results) == N
    for r, mask in zip(results, expected):
        assert r.raw_mask.dtype == np.uint8 and r.raw_mask.shape == (48, 64)
        np.testing.assert_array_equal(r.raw_mask, mask)
    assert model.n_frames_seen_ == N  # the given model is the one that learned


def test_masks_are_new_arrays_each_frame(scene) -> None:
    results = list(process(scene.frames, postprocess=Postprocess(median=3)))
    assert len({id(r.raw_mask) for r in results}) == N
    assert len({id(r.mask) for r in results}) == N


def test_learning_rate_is_passed_to_the_model(scene) -> None:
    direct = plain_mixture()
    expected = [direct.apply(frame, 0.05).copy() for frame in scene.frames[:20]]
    results = list(process(scene.frames[:20], plain_mixture(), learning_rate=0.05, blobs=False))
    for r, mask in zip(results, expected):
        np.testing.assert_array_equal(r.raw_mask, mask)
        assert r.blobs is None


def test_postprocess_is_applied_to_the_raw_mask(scene) -> None:
    settings = Postprocess(median=3, min_area=4)
    results = list(process(scene.frames, postprocess=settings))
    changed = 0
    for r in results:
        np.testing.assert_array_equal(r.mask, clean_mask(r.raw_mask, settings))
        changed += int(not np.array_equal(r.mask, r.raw_mask))
    assert changed > 0  # the clean-up did something on this clip


def test_blobs_found_where_ground_truth_has_objects(scene) -> None:
    checked = 0
    for r, gt in zip(process(scene.frames, plain_mixture()), scene.ground_truth):
        moving = gt == 255
        if r.index <= scene.warmup:
            continue
        # blobs describe the mask
        assert int(r.blobs.areas.sum()) == int((r.mask >= 128).sum())
        if moving.sum() < 5:
            continue
        checked += 1
        assert len(r.blobs) >= 1, f"frame {r.index}: no blob"
        covered = np.zeros(gt.shape, bool)
        for x1, y1, x2, y2 in r.blobs.boxes:
            covered[y1:y2, x1:x2] = True
        # most of the objects' pixels lie in some blob's box
        assert (covered & moving).sum() >= 0.5 * moving.sum(), f"frame {r.index}"
    assert checked >= 20


def test_min_area_filters_blobs(scene) -> None:
    results = list(process(scene.frames, min_area=8))
    for r in results:
        assert (r.blobs.areas >= 8).all()


def test_probability_is_consistent_with_the_mask(scene) -> None:
    results = process(scene.frames, probability=True)
    buffers = set()
    for r in results:
        p = r.probability
        assert p is not None and p.dtype == np.float32 and p.shape == (48, 64)
        assert np.all((p >= 0) & (p <= 1))
        np.testing.assert_array_equal(p >= 0.5, r.raw_mask != 0)
        if len(r.blobs):
            assert np.all(r.blobs.confidences >= 0.5)
        buffers.add(id(p))
    assert len(buffers) == 1  # one buffer, reused


def test_stats_counts(scene) -> None:
    results = process(scene.frames)
    assert results.stats == ProcessStats()
    for _ in results:
        pass
    stats = results.stats
    assert isinstance(stats, ProcessStats)
    assert stats.frames_read == N
    assert stats.frames_processed == N
    assert stats.frames_dropped == 0
    assert stats.fps > 0
    assert 0 <= stats.mean_latency_s <= stats.max_latency_s
    assert stats.elapsed_s > 0
    assert results.closed and results.source.closed


def test_max_frames_stops_early_and_closes_the_source(scene) -> None:
    source = ArraySource(scene.frames)
    results = process(source, max_frames=7)
    assert results.source is source
    out = list(results)
    assert [r.index for r in out] == list(range(7))
    assert source.closed and results.closed
    assert results.stats.frames_read == 7 and results.stats.frames_processed == 7
    assert list(results) == []


def test_max_frames_zero_reads_nothing(scene) -> None:
    results = process(scene.frames, max_frames=0)
    assert list(results) == []
    assert results.stats.frames_read == 0 and results.source.closed


def test_close_stops_iteration(scene) -> None:
    with process(scene.frames) as results:
        first = next(results)
        assert first.index == 0
    assert results.closed and results.source.closed
    with pytest.raises(StopIteration):
        next(results)
    results.close()  # idempotent


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_frames": -1}, r"max_frames must be an integer >= 0 or None, got -1"),
    ({"max_frames": 2.5}, r"max_frames must be an integer >= 0 or None, got 2\.5"),
    ({"min_area": -1}, r"min_area must be an integer >= 0, got -1"),
    ({"learning_rate": 2.0}, r"learning_rate must be .* in \[0, 1\], got 2\.0"),
    ({"postprocess": "median"}, r"postprocess must be a Postprocess or None, got str"),
    ({"model": object()}, r"model must be a BackgroundMixture or None, got object")])
def test_bad_arguments(scene, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        process(scene.frames, **kwargs)


def test_model_error_names_the_frame_and_closes_the_source() -> None:
    model = plain_mixture()
    model.apply(np.zeros((9, 8, 3), np.uint8))  # a model that learned another size
    results = process([np.zeros((8, 8, 3), np.uint8)], model)
    with pytest.raises(ValueError, match=r"^<iterable>: frame 0: .*initialised"):
        next(results)
    assert results.source.closed


def test_video_file_masks_and_early_close_stops_reader(scene, tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    write_video(path, scene.frames[:40])
    before = set(bgmix_threads("bgmix-reader:"))
    # whole clip: FFV1 is lossless, so masks equal running on the array
    full = [r.raw_mask for r in process(path, blobs=False)]
    expected = [r.raw_mask for r in process(scene.frames[:40], blobs=False)]
    assert len(full) == 40
    for a, b in zip(full, expected):
        np.testing.assert_array_equal(a, b)
    # closing early stops and joins the decoding thread
    results = process(str(path))
    assert isinstance(results.source, VideoFileSource)
    thread = results.source._reader.thread
    assert thread.is_alive() or thread.ident is not None
    next(results)
    next(results)
    results.close()
    assert not thread.is_alive()
    assert results.source.closed
    assert set(bgmix_threads("bgmix-reader:")) <= before


def test_video_file_max_frames_stops_reader(scene, tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    write_video(path, scene.frames[:30])
    results = process(path, max_frames=3)
    thread = results.source._reader.thread
    assert len(list(results)) == 3
    assert results.source.closed and not thread.is_alive()


# ------------------------------------------------------------------- bootstrap
FIT = {"random_state": 0, "max_iter": 20}


def test_bootstrap_from_the_first_frames_fits_then_classifies_every_frame(scene) -> None:
    with process(ArraySource(scene.frames), plain_mixture(), bootstrap=10, bootstrap_options=FIT,
                 blobs=False) as results:
        out = list(results)
        model = results.model
    assert [r.index for r in out] == list(range(N))
    # The same as fitting by hand, then applying every frame from the first.
    expected = plain_mixture().fit(scene.frames[:10], **FIT)
    for r, frame in zip(out, scene.frames):
        np.testing.assert_array_equal(r.mask, expected.apply(frame))
    assert model.n_frames_seen_ == expected.n_frames_seen_ == 10 + N
    np.testing.assert_array_equal(model.means_, expected.means_)


def test_bootstrap_from_a_separate_clip_detects_objects_from_the_first_frame() -> None:
    empty = make_scene("baseline", height=48, width=64, n_frames=31, seed=1, warmup=30)
    busy = make_scene("baseline", height=48, width=64, n_frames=30, seed=1, warmup=0)
    frames, object_pixels = busy.frames[25:], busy.ground_truth[25] == 255
    assert object_pixels.sum() > 100, "the clip must start with an object in view"
    cold = next(iter(process(ArraySource(frames), blobs=False)))
    with process(ArraySource(frames), bootstrap=30, bootstrap_source=empty.frames[:30],
                 bootstrap_options=FIT, blobs=False) as results:
        warm = next(results)
    # A cold model has nothing to compare the first frame with (as OpenCV's MOG2).
    assert not (cold.mask == 255).any()
    assert (warm.mask[object_pixels] == 255).mean() > 0.8
    assert (warm.mask[~object_pixels] == 0).mean() > 0.99
    assert results.source.closed and results.closed


def test_bootstrap_stops_at_max_frames(scene) -> None:
    results = process(ArraySource(scene.frames), bootstrap=20, max_frames=5,
                      bootstrap_options=FIT, blobs=False)
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert results.model.n_frames_seen_ == 5 + 5


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bootstrap": 1}, "bootstrap must be an integer >= 2"),
    ({"bootstrap": "ten"}, "bootstrap must be an integer"),
    ({"bootstrap_options": {"n_init": 2}}, "need bootstrap=N"),
    ({"bootstrap": 5, "bootstrap_options": [1]}, "bootstrap_options must be a dict"),
])
def test_bootstrap_bad_arguments(scene, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        process(ArraySource(scene.frames), **kwargs)


def test_bootstrap_with_one_frame_names_the_source() -> None:
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"the first 5 frames give 1 frame\(s\) to bootstrap"):
        next(iter(process(ArraySource(frames, name="tiny"), bootstrap=5)))


def test_bootstrap_fit_error_names_the_bootstrap_clip(scene) -> None:
    with pytest.raises(ValueError, match=r"bootstrap from .*n_init"):
        next(iter(process(ArraySource(scene.frames), bootstrap=5,
                          bootstrap_options={"n_init": 0})))


def test_log_likelihood_equals_scoring_before_each_frame(scene) -> None:
    shadow = plain_mixture()
    with process(ArraySource(scene.frames), plain_mixture(), log_likelihood=True, blobs=False) as results:
        for result in results:
            if result.index == 0:
                assert result.log_likelihood is not None
                shadow.apply(result.frame)
                continue
            expected = shadow.score_samples(result.frame)  # the model before this frame
            np.testing.assert_allclose(result.log_likelihood, expected, rtol=1e-5, atol=1e-4)
            shadow.apply(result.frame)
    plain = next(iter(process(ArraySource(scene.frames), plain_mixture(), blobs=False)))
    assert plain.log_likelihood is None


def test_zones_say_which_zones_each_blob_touches_within_the_roi() -> None:
    frames = np.full((20, 24, 32, 3), 90, np.uint8)
    frames[-1, 4:10, 2:8] = 220     # an object on the left
    frames[-1, 14:20, 24:30] = 220  # and one on the right
    roi = np.ones((24, 32), bool)
    roi[:, 20:] = False             # the right object is not watched: no blob there
    zones = ["left=0,0,15,0,15,23,0,23", "middle=8,0,23,0,23,23,8,23"]
    last = list(process(frames, plain_mixture(), zones=zones, roi=roi))[-1]
    assert last.blobs.boxes.tolist() == [[2, 4, 8, 10]]
    assert last.blobs.zones == (("left",),)
    unwatched = np.zeros((24, 32), bool)
    unwatched[:, :4] = True
    results = process(frames, plain_mixture(), zones=["middle=8,0,23,0,23,23,8,23"],
                      roi=unwatched)
    with pytest.raises(ValueError, match=r"^<array>: frame 0: zone middle lies entirely "
                                         r"outside the ROI"):
        next(results)


def test_a_zone_outside_the_frames_names_the_frame() -> None:
    results = process(np.zeros((2, 8, 8), np.uint8), zones=["big=0,0,40,0,40,40"])
    with pytest.raises(ValueError, match=r"^<array>: frame 0: zone big: point \(40, 0\) is "
                                         r"outside the 8x8 frame"):
        next(results)
