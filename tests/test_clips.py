"""Event clips (bgmix.clips): real decoding of the source, real encoding and
decoding of the clips."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix import clips as clips_module
from bgmix.clips import clip_name, write_clips
from bgmix.events import Event, EventRecorder
from tests.events_helpers import events_clip  # noqa: F401  (fixture)


def test_doctests() -> None:
    assert doctest.testmod(clips_module, optionflags=doctest.ELLIPSIS).failed == 0


def _events(clip, **params) -> list[Event]:
    recorder = EventRecorder(**params)
    for i, (mask, ts) in enumerate(zip(clip.masks, clip.timestamps)):
        recorder.update(i, mask, timestamp=ts)
    return recorder.finish()


def _decode(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return np.stack(frames)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_clip_name_sorts_by_start_time() -> None:
    def at(seconds: float) -> Event:
        return Event(1, 1, 2, seconds, seconds + 1, 0.1, 1, 1, 1, 2, seconds, seconds + 1)

    names = [clip_name(at(s)) for s in (3725.25, 59.9996, 0.04)]
    assert names == ["event-01h02m05.250s.mkv", "event-00h01m00.000s.mkv",
                     "event-00h00m00.040s.mkv"]
    assert sorted(names) == names[::-1]
    assert clip_name(at(1.5), ".mp4", "door") == "door-00h00m01.500s.mp4"


def test_each_event_is_its_own_clip_with_the_original_frames(events_clip, tmp_path) -> None:
    events = _events(events_clip)
    assert len(events) == 2
    clips = write_clips(events_clip.path, events, tmp_path / "clips")
    assert [c.path.name for c in clips] == [clip_name(e) for e in events]
    assert sorted(os.listdir(tmp_path / "clips")) == [c.path.name for c in clips]  # no temporaries
    for clip, event in zip(clips, events):
        decoded = _decode(clip.path)
        span = event.clip_end_frame - event.clip_start_frame + 1
        assert clip.frames == span and len(decoded) == span
        # padding included: 1.5 s before, 2 s after the motion
        assert event.start_s - event.clip_start_s == pytest.approx(1.5, abs=0.05)
        assert event.clip_end_s - event.end_s == pytest.approx(2.0, abs=0.05)
        original = events_clip.frames[event.clip_start_frame - 1:event.clip_end_frame]
        # Motion JPEG: lossy but close, and frame k of the clip is frame k of the span
        scores = [_psnr(d, o) for d, o in zip(decoded, original)]
        assert min(scores) > 30
        shifted = _psnr(decoded[len(decoded) // 2], original[len(decoded) // 2 + 3])
        assert shifted < min(scores) - 3
        capture = cv2.VideoCapture(str(clip.path))
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(events_clip.fps)
        assert capture.get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"MJPG")
        capture.release()
        mode = clip.path.stat().st_mode & 0o777
        assert mode != 0o600                       # an ordinary file, not mkstemp's


def test_overlay_clips_tint_the_foreground(events_clip, tmp_path) -> None:
    events = _events(events_clip)[:1]
    [plain] = write_clips(events_clip.path, events, tmp_path / "plain")
    [tinted] = write_clips(events_clip.path, events, tmp_path / "overlay", overlay=True,
                           masks=events_clip.masks)
    event = events[0]
    k = event.peak_frame - event.clip_start_frame
    a, b = _decode(plain.path)[k].astype(int), _decode(tinted.path)[k].astype(int)
    fg = events_clip.masks[event.peak_frame - 1] == 255
    assert fg.sum() > 500
    # red up, blue down on the foreground; elsewhere (away from box lines) the same
    assert (b[fg, 2] - a[fg, 2]).mean() > 40 and (a[fg, 0] - b[fg, 0]).mean() > 40
    far = np.zeros_like(fg)
    far[:40, 200:] = True
    assert np.abs(a[far] - b[far]).mean() < 3
    # the object is boxed in green
    x1, y1, x2, y2 = event.peak_box
    line, inside = b[y1, x1 + 2:x2 - 2], b[y1 + 3, x1 + 2:x2 - 2]   # top edge, tinted inside
    assert (line[:, 1] - line[:, 2]).mean() > 50 > (inside[:, 1] - inside[:, 2]).mean()


def test_overlay_from_a_mask_video(events_clip, tmp_path) -> None:
    masks_path = tmp_path / "masks.mkv"
    h, w = events_clip.masks.shape[1:]
    writer = cv2.VideoWriter(str(masks_path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"),
                             events_clip.fps, (w, h), False)
    for mask in events_clip.masks:
        writer.write(mask)
    writer.release()
    events = _events(events_clip)
    from_video = write_clips(events_clip.path, events, tmp_path / "a", overlay=True, masks=masks_path)
    from_array = write_clips(events_clip.path, events, tmp_path / "b", overlay=True,
                             masks=events_clip.masks)
    for x, y in zip(from_video, from_array):
        np.testing.assert_array_equal(_decode(x.path), _decode(y.path))


def test_mp4_clips(events_clip, tmp_path) -> None:
    events = _events(events_clip)
    clips = write_clips(events_clip.path, events, tmp_path, suffix=".mp4")
    assert all(c.path.suffix == ".mp4" for c in clips)
    assert [len(_decode(c.path)) for c in clips] == [c.frames for c in clips]


def test_overlapping_clips_are_both_complete(events_clip, tmp_path) -> None:
    # 6 s of padding: clip 1 (to ~12 s) overlaps clip 2 (from ~4 s)
    events = _events(events_clip, pre_padding=6.0, post_padding=6.0)
    assert events[0].clip_end_frame > events[1].clip_start_frame
    clips = write_clips(events_clip.path, events, tmp_path)
    for clip, event in zip(clips, events):
        assert len(_decode(clip.path)) == event.clip_end_frame - event.clip_start_frame + 1


def test_video_ending_inside_a_clip_keeps_what_there_is(events_clip, tmp_path) -> None:
    [event] = _events(events_clip)[:1]
    n = len(events_clip.frames)
    beyond = Event(9, n - 20, n - 5, (n - 20) / 25, (n - 5) / 25, 0.1, n - 10, 1,
                   n - 30, n + 40, (n - 30) / 25, (n + 40) / 25)
    clips = write_clips(events_clip.path, [event, beyond], tmp_path)
    assert clips[-1].frames == 31 and len(_decode(clips[-1].path)) == 31


def test_a_failure_leaves_no_partial_clip(events_clip, tmp_path) -> None:
    events = _events(events_clip)
    second_start = events[1].clip_start_frame

    def masks(index: int) -> np.ndarray:
        if index >= second_start + 10:
            raise OSError("mask store gone")
        return events_clip.masks[index]

    with pytest.raises(OSError, match="mask store gone"):
        write_clips(events_clip.path, events, tmp_path, overlay=True, masks=masks)
    # the first clip was complete and stays; nothing of the second, no temporary files
    assert sorted(os.listdir(tmp_path)) == [clip_name(events[0])]


def test_bad_arguments(events_clip, tmp_path) -> None:
    events = _events(events_clip)
    with pytest.raises(ValueError, match="clip suffix must be one of .mkv, .avi, .mp4"):
        write_clips(events_clip.path, events, tmp_path, suffix=".gif")
    with pytest.raises(ValueError, match="overlay=True needs masks="):
        write_clips(events_clip.path, events, tmp_path, overlay=True)
    not_video = tmp_path / "notes.mkv"
    not_video.write_text("hello")
    with pytest.raises(ValueError, match="notes.mkv: OpenCV cannot open it as a video"):
        write_clips(not_video, events, tmp_path / "out")
    assert write_clips(events_clip.path, [], tmp_path / "none") == []
    with pytest.raises(ValueError, match="same millisecond"):
        write_clips(events_clip.path, [events[0], events[0]], tmp_path / "dup")
