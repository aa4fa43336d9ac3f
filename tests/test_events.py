"""Motion events (bgmix.events): the detector, the measuring of masks, CSV
files, and events of real decoded video against known motion."""

from __future__ import annotations

import doctest
import os
import stat

import numpy as np
import pytest

from bgmix import events as events_module
from bgmix.events import (
    Event,
    EventDetector,
    EventParams,
    EventRecorder,
    detect_events,
    find_events,
    measure,
    read_events_csv,
    write_events_csv,
    zone_csv_path,
)
from tests.events_helpers import events_clip  # noqa: F401  (fixture)

NO_PADDING = {"pre_padding": 0.0, "post_padding": 0.0, "warmup": 0}


def test_doctests() -> None:
    assert doctest.testmod(events_module, optionflags=doctest.ELLIPSIS).failed == 0


def spans(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.start_frame, e.end_frame) for e in events]


# --------------------------------------------------------------------------- detector


def test_one_event_frames_times_and_padding() -> None:
    fps = 10.0
    areas = [0.0] * 50 + [0.05] * 30 + [0.0] * 70
    [event] = detect_events(areas, fps=fps, warmup=0, pre_padding=1.0, post_padding=2.5)
    assert (event.start_frame, event.end_frame) == (51, 80)
    assert event.start_s == pytest.approx(5.0) and event.end_s == pytest.approx(8.0)
    assert event.duration_s == pytest.approx(3.0) and event.frames == 30
    assert (event.clip_start_frame, event.clip_end_frame) == (41, 105)
    assert event.clip_start_s == pytest.approx(4.0) and event.clip_end_s == pytest.approx(10.5)


def test_padding_is_clamped_to_the_video() -> None:
    areas = [0.05] * 20 + [0.0] * 5
    [event] = detect_events(areas, fps=10, warmup=0, pre_padding=3.0, post_padding=3.0)
    assert (event.clip_start_frame, event.clip_end_frame) == (1, 25)
    assert event.clip_start_s == 0.0 and event.clip_end_s == pytest.approx(2.5)


def test_motion_up_to_the_last_frame_ends_with_the_video() -> None:
    [event] = detect_events([0.0] * 10 + [0.05] * 10, fps=10, **NO_PADDING, min_duration=0)
    assert event.end_frame == 20 and event.end_s == pytest.approx(2.0)


def test_merge_gap_joins_and_splits() -> None:
    fps = 10.0
    areas = [0.0] * 10 + [0.05] * 10 + [0.0] * 15 + [0.05] * 10 + [0.0] * 40  # gap 1.5 s
    assert spans(detect_events(areas, fps=fps, merge_gap=1.5, **NO_PADDING)) == [(11, 45)]
    assert spans(detect_events(areas, fps=fps, merge_gap=1.4, **NO_PADDING)) == [(11, 20), (36, 45)]
    merged = detect_events(areas, fps=fps, merge_gap=2.0, **NO_PADDING)[0]
    assert merged.duration_s == pytest.approx(3.5)


def test_min_duration_drops_short_events_after_merging() -> None:
    fps = 25.0
    blip = [0.0] * 30 + [0.05] * 5 + [0.0] * 100          # 0.2 s
    assert detect_events(blip, fps=fps, min_duration=0.5, **NO_PADDING) == []
    assert spans(detect_events(blip, fps=fps, min_duration=0.2, **NO_PADDING)) == [(31, 35)]
    # three 0.2 s blips 0.4 s apart: 1.4 s once merged
    blips = [0.0] * 30 + ([0.05] * 5 + [0.0] * 10) * 3 + [0.0] * 100
    assert spans(detect_events(blips, fps=fps, min_duration=0.5, merge_gap=0.5, **NO_PADDING)) == [(31, 65)]
    assert detect_events(blips, fps=fps, min_duration=0.5, merge_gap=0.3, **NO_PADDING) == []


def test_min_area_threshold_is_inclusive() -> None:
    areas = [0.0] * 10 + [0.002] * 20 + [0.0019] * 20 + [0.0] * 10
    assert spans(detect_events(areas, fps=10, min_area=0.002, merge_gap=0, **NO_PADDING)) == [(11, 30)]


def test_warmup_frames_never_start_an_event() -> None:
    areas = [0.3] * 40 + [0.0] * 60                        # a fresh model's first frames
    assert detect_events(areas, fps=25, warmup=30) == []
    assert spans(detect_events(areas, fps=25, warmup=30, pre_padding=0, post_padding=0)) == []
    [event] = detect_events(areas, fps=25, warmup=0)
    assert event.start_frame == 1
    # activity continuing past the warm-up starts at the first frame after it
    [late] = detect_events([0.3] * 60 + [0.0] * 60, fps=10, warmup=30, pre_padding=1.5)
    assert late.start_frame == 31
    assert late.clip_start_frame == 31 - 15                 # padding may show warm-up frames


def test_timestamps_come_from_the_video_not_the_index() -> None:
    # a variable frame rate: 10 fps, then a 3 s hole (dropped frames), then 10 fps
    stamps = [i * 0.1 for i in range(30)] + [6.0 + i * 0.1 for i in range(30)]
    indices = list(range(30)) + list(range(60, 90))
    areas = [0.0] * 20 + [0.05] * 20 + [0.0] * 20
    [event] = detect_events(areas, timestamps=stamps, indices=indices, merge_gap=0.5,
                            **NO_PADDING)
    assert (event.start_frame, event.end_frame) == (21, 70)
    assert event.start_s == pytest.approx(2.0) and event.end_s == pytest.approx(7.0)


def test_streaming_emits_each_event_once_it_is_final() -> None:
    fps = 10.0
    detector = EventDetector(fps=fps, warmup=0, min_duration=0.0, merge_gap=1.0,
                             pre_padding=0.5, post_padding=2.0)
    areas = [0.0] * 10 + [0.05] * 10 + [0.0] * 50
    emitted_at = {}
    for i, area in enumerate(areas):
        for event in detector.update(i, i / fps, area, blobs=2, zones=("door",) if i == 15 else ()):
            emitted_at[event.number] = i
    assert emitted_at == {1: 40}        # motion ends at 2.0 s; 2.0 s of post padding: frame 40
    [event] = detector.events
    assert event.clip_end_frame == 40 and event.clip_end_s == pytest.approx(4.0)
    assert event.peak_blobs == 2 and event.zones == ("door",)
    assert detector.finish() == []
    with pytest.raises(ValueError, match="after finish"):
        detector.update(99, 9.9, 0.0)


def test_streaming_new_event_while_the_previous_one_waits_for_its_padding() -> None:
    fps = 10.0
    detector = EventDetector(fps=fps, warmup=0, min_duration=0.0, merge_gap=0.5,
                             pre_padding=0.0, post_padding=3.0)
    areas = [0.05] * 10 + [0.0] * 10 + [0.05] * 10 + [0.0] * 50
    for i, area in enumerate(areas):
        detector.update(i, i / fps, area)
    detector.finish()
    first, second = detector.events
    assert spans(detector.events) == [(1, 10), (21, 30)]
    assert first.clip_end_frame == 40 and second.clip_end_frame == 60  # clips overlap


def test_peak_is_the_largest_area() -> None:
    detector = EventDetector(**NO_PADDING, min_duration=0)
    for i, area in enumerate([0.0, 0.01, 0.04, 0.02, 0.0]):
        detector.update(i, i * 0.04, area, blobs=i, box=(i, i, i + 5, i + 5))
    [event] = detector.finish()
    assert (event.peak_frame, event.peak_area, event.peak_box) == (3, 0.04, (2, 2, 7, 7))
    assert event.peak_blobs == 3


def test_in_progress_follows_the_growing_event() -> None:
    detector = EventDetector(warmup=0, merge_gap=0.1, post_padding=0.0, min_duration=0.0)
    seen = []
    for i, area in enumerate([0.0, 0.01, 0.03, 0.02, 0.0, 0.0, 0.0, 0.0]):
        detector.update(i, i * 0.04, area)
        seen.append(None if detector.in_progress is None else detector.in_progress["peak_frame"])
    # motion ends at 0.16 s (frame 5 starts); more than 0.1 s later, at frame 8, it is closed
    assert seen == [None, 2, 3, 3, 3, 3, 3, None]


def test_detector_refuses_out_of_order_frames() -> None:
    detector = EventDetector()
    detector.update(5, 1.0, 0.0)
    with pytest.raises(ValueError, match="frame indices must increase: 5 after 5"):
        detector.update(5, 1.1, 0.0)
    with pytest.raises(ValueError, match="timestamp 0.5 is before the previous frame's 1.0"):
        detector.update(6, 0.5, 0.0)
    with pytest.raises(ValueError, match="timestamp must be finite"):
        detector.update(7, float("nan"), 0.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_area": 0}, "min_area must be > 0"),
    ({"min_area": 1.5}, r"min_area must be in \[0, 1\], got 1.5"),
    ({"merge_gap": -1}, "merge_gap must be >= 0, got -1.0"),
    ({"min_duration": float("inf")}, "min_duration must be >= 0, got inf"),
    ({"warmup": 2.5}, "warmup must be a whole number, got 2.5"),
    ({"opening": "3"}, "opening must be a number, got '3'"),
    ({"pre_padding": True}, "pre_padding must be a number, got True"),
])
def test_parameters_are_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventParams(**kwargs)


def test_unknown_parameter_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"unknown event parameter\(s\) \['min_aera'\]"):
        EventDetector(min_aera=0.1)


def test_detect_events_checks_lengths_and_time_base() -> None:
    with pytest.raises(ValueError, match="needs timestamps= or fps="):
        detect_events([0.0, 0.1])
    with pytest.raises(ValueError, match="timestamps has 1 entries for 2 areas"):
        detect_events([0.0, 0.1], timestamps=[0.0])


# --------------------------------------------------------------------------- measuring


def test_measure_drops_specks_and_shadows() -> None:
    mask = np.zeros((100, 200), np.uint8)
    mask[20:40, 20:60] = 255              # 800 px object
    mask[60:70, 100:150] = 127            # shadow: not foreground
    rng = np.random.default_rng(0)
    ys, xs = rng.integers(0, 100, 300), rng.integers(0, 200, 300)
    speckled = mask.copy()
    speckled[ys, xs] = np.where(speckled[ys, xs] == 0, 255, speckled[ys, xs])
    activity = measure(speckled)
    assert activity.blobs == 1
    assert activity.area == pytest.approx(800 / 20000, rel=0.02)
    assert activity.box == (20, 20, 60, 40)
    # without the opening and the speck threshold every speck counts
    raw = measure(speckled, opening=0, min_blob_area=0)
    assert raw.blobs > 100


def test_measure_roi_changes_what_is_watched() -> None:
    mask = np.zeros((100, 100), np.uint8)
    mask[10:30, 10:30] = 255              # 400 px, in the ROI
    mask[60:90, 60:90] = 255              # 900 px, outside
    roi = np.zeros((100, 100), bool)
    roi[:50, :50] = True                  # 2500 watched px
    activity = measure(mask, roi=roi)
    assert activity.blobs == 1 and activity.area == pytest.approx(400 / 2500)


def test_measure_zone_areas_are_fractions_of_the_watched_pixels() -> None:
    from bgmix.zones import ZoneSet

    zones = ZoneSet(["left=0,0,49,0,49,99,0,99", "right=50,0,99,0,99,99,50,99"], (100, 100))
    mask = np.zeros((100, 100), np.uint8)
    mask[10:30, 40:60] = 255              # straddles both: 200 px each side
    mask[70:80, 70:90] = 255              # right only
    activity = measure(mask, zones=zones)
    assert activity.blob_zones == [("left", "right"), ("right",)]
    assert activity.zone_areas == {"left": pytest.approx(0.02), "right": pytest.approx(0.04)}
    assert activity.zone_blobs == {"left": 1, "right": 2}
    assert activity.zones == ("left", "right")


def test_recorder_zone_only_events() -> None:
    recorder = EventRecorder(fps=10, zones=["door=0,0,19,0,19,19,0,19"], merge_gap=0.5,
                             **NO_PADDING)
    for i in range(80):
        mask = np.zeros((40, 80), np.uint8)
        if 10 <= i < 30:
            mask[20:30, 40:60] = 255      # away from the door
        if 40 <= i < 60:
            mask[5:15, 5:15] = 255        # at the door
        recorder.update(i, mask)
    recorder.finish()
    assert spans(recorder.events) == [(11, 30), (41, 60)]
    assert [e.zones for e in recorder.events] == [(), ("door",)]
    assert spans(recorder.zone_events["door"]) == [(41, 60)]
    assert recorder.zone_events["door"][0].zone == "door"
    timeline = recorder.timeline
    assert len(timeline["area"]) == 80 and timeline["timestamp"][10] == pytest.approx(1.0)


def test_recorder_roi_size_must_match() -> None:
    recorder = EventRecorder(fps=10, roi=np.ones((10, 10), bool))
    with pytest.raises(ValueError, match="the ROI is 10x10 but the frames are 20x10"):
        recorder.update(0, np.zeros((10, 20), np.uint8))
    with pytest.raises(ValueError, match="needs a timestamp"):
        EventRecorder().update(0, np.zeros((10, 10), np.uint8))


# --------------------------------------------------------------------------- CSV


def _some_events() -> list[Event]:
    recorder = EventRecorder(fps=25, zones=["a=0,0,30,0,30,30"], warmup=0)
    for i in range(120):
        mask = np.zeros((48, 64), np.uint8)
        if 20 <= i < 60:
            mask[5:25, 5:25] = 255
        recorder.update(i, mask)
    recorder.finish()
    return recorder.events + recorder.zone_events["a"]


def test_csv_round_trip(tmp_path) -> None:
    events = _some_events()
    path = write_events_csv(tmp_path / "events.csv", events)
    lines = path.read_text().splitlines()
    assert lines[0] == ("event,zone,start_frame,end_frame,start_s,end_s,duration_s,peak_area,"
                        "peak_blobs,peak_frame,peak_box,zones,clip_start_frame,clip_end_frame,"
                        "clip_start_s,clip_end_s")
    assert lines[1].startswith("1,,21,60,0.800,2.400,1.600,")
    back = read_events_csv(path)
    assert [e.to_row() for e in back] == [e.to_row() for e in events]
    assert back[1].zone == "a" and back[0].zones == ("a",) and back[0].peak_box == (5, 5, 25, 25)


def test_csv_is_written_atomically(tmp_path) -> None:
    path = tmp_path / "events.csv"
    write_events_csv(path, _some_events())
    before = path.read_bytes()

    def broken():
        yield _some_events()[0]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_events_csv(path, broken())
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["events.csv"]          # no temporary left
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & 0o044 == 0o044 & ~_umask()                        # not mkstemp's 0600


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_read_events_csv_refuses_other_files(tmp_path) -> None:
    other = tmp_path / "det.txt"
    other.write_text("1,-1,2,3,4,5,1,-1,-1,-1\n")
    with pytest.raises(ValueError, match="not an events CSV"):
        read_events_csv(other)


def test_zone_csv_path() -> None:
    assert zone_csv_path("out/events.csv", "door").name == "events-door.csv"


# --------------------------------------------------------------------------- real decoded video


def _assert_match(events: list[Event], truth: list[tuple[float, float]], tolerance: float = 0.5) -> None:
    assert len(events) == len(truth), (events, truth)
    for event, (start, end) in zip(events, truth):
        assert abs(event.start_s - start) <= tolerance, (event, start)
        assert abs(event.end_s - end) <= tolerance, (event, end)


def test_generated_clip_events_match_the_truth_within_half_a_second(events_clip) -> None:
    recorder = EventRecorder()               # default parameters
    for i, (mask, ts) in enumerate(zip(events_clip.masks, events_clip.timestamps)):
        recorder.update(i, mask, timestamp=ts)
    recorder.finish()
    _assert_match(recorder.events, events_clip.intervals)
    # much tighter than required: a few frames at the edges, where the car is a sliver
    for event, (first, last) in zip(recorder.events, events_clip.frame_intervals):
        assert abs(event.start_frame - first) <= 4 and abs(event.end_frame - last) <= 4
        assert event.peak_blobs == 1 and event.peak_area > 0.01


def test_find_events_runs_the_model_on_the_file(events_clip) -> None:
    recorder = find_events(events_clip.path, zones=["left=0,0,159,0,159,239,0,239"])
    _assert_match(recorder.events, events_clip.intervals)
    assert len(recorder.timeline["area"]) == len(events_clip.frames)
    # car 1 drives left to right (enters in the left half), car 2 right to left
    left = recorder.zone_events["left"]
    assert len(left) == 2
    assert left[0].start_s == pytest.approx(recorder.events[0].start_s, abs=0.1)
    assert left[0].end_s < recorder.events[0].end_s - 0.5     # it leaves the left half first
    assert left[1].start_s > recorder.events[1].start_s + 0.5  # car 2 reaches it later
    assert left[1].end_s == pytest.approx(recorder.events[1].end_s, abs=0.1)


def test_trees_and_one_passing_car_give_one_event() -> None:
    """The issue's acceptance case: swaying trees, one car, default settings."""
    try:
        from bgmix.synth import make_scene
    except ImportError:  # the scene generator moved
        make_scene = pytest.importorskip("bgmix.sources.synth").make_scene
    scene = make_scene("dynamic_background", height=240, width=320, n_frames=400, seed=1,
                       water=0.0, boat_interval=0, object_interval=1e6, warmup=100)
    [car] = scene.info["objects"]
    truth_frames = np.flatnonzero((scene.ground_truth == 255).any(axis=(1, 2)))
    truth = [(truth_frames[0] / scene.fps, (truth_frames[-1] + 1) / scene.fps)]
    recorder = find_events(scene.frames, fps=scene.fps)
    _assert_match(recorder.events, truth)
    assert car["t0"] == truth_frames[0]
