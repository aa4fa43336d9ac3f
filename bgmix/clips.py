"""One video file per motion event.

:func:`write_clips` reads a video once, from the start, and writes each
event's padded span (``clip_start_frame`` to ``clip_end_frame`` of a
:class:`bgmix.events.Event`) as its own video: the original frames, or with
``overlay=True`` the frames with their foreground tinted red and the counted
objects boxed in green (the masks then come from ``masks=``: the mask video
``bgmix run --masks`` wrote, an array of masks, or a function of the frame
index). Overlapping clips (events closer than their padding) are written
from the same decoded frames.

Each clip is named by its event's start time, ``event-00h01m23.456s.mkv``
(hours, minutes, seconds from the start of the video; names sort in time
order), and written under a hidden temporary name in the same folder
(``.event-....part.mkv``) that is renamed when the clip is complete, so a
clip that exists is whole. When anything fails, the temporary files are
removed and clips already renamed are kept.

Codecs follow the suffix, as for the overlay videos of ``bgmix run``:
``.mkv`` and ``.avi`` Motion JPEG (every frame a JPEG: cheap to encode,
seekable, played by VLC, mpv and ffplay), ``.mp4`` MPEG-4 Part 2 (``mp4v``,
the one MP4 encoder opencv-python wheels carry).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.events import Event, _create_temp, measure

__all__ = ["CLIP_SUFFIXES", "Clip", "clip_name", "overlay_picture", "write_clips"]

CLIP_SUFFIXES = {".mkv": "MJPG", ".avi": "MJPG", ".mp4": "mp4v"}
"""Accepted clip suffixes and the codec (fourcc) of each."""

FOREGROUND_TINT = np.array([0, 0, 255], np.float32)   # BGR red, as bgmix run --overlay
BOX_COLOUR = (0, 255, 0)


@dataclass(frozen=True)
class Clip:
    """A clip written by :func:`write_clips`."""

    event: Event
    path: Path
    frames: int
    """Frames written (fewer than the event's span only when the video ended early)."""


def clip_name(event: Event, suffix: str = ".mkv", prefix: str = "event") -> str:
    """``{prefix}-HHhMMmSS.mmms{suffix}`` from the event's start time.

    Examples
    --------
    >>> from bgmix.events import detect_events
    >>> [event] = detect_events([0.0] * 10 + [0.01] * 20, fps=4, warmup=0)
    >>> event.start_s, clip_name(event)
    (2.5, 'event-00h00m02.500s.mkv')
    """
    millis = int(round(event.start_s * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{prefix}-{hours:02d}h{minutes:02d}m{rest // 1000:02d}.{rest % 1000:03d}s{suffix}"


def overlay_picture(frame: np.ndarray, mask: np.ndarray, *, alpha: float = 0.5,
                    **measure_options: Any) -> np.ndarray:
    """The frame with foreground (``mask >= 128``) tinted red and the counted
    objects of :func:`bgmix.events.measure` boxed in green.

    Examples
    --------
    >>> frame = np.zeros((20, 20, 3), np.uint8)
    >>> mask = np.zeros((20, 20), np.uint8); mask[5:15, 5:15] = 255
    >>> picture = overlay_picture(frame, mask)
    >>> picture[10, 10].tolist(), picture[5, 5].tolist()   # tinted, box corner
    ([0, 0, 128], [0, 255, 0])
    """
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    picture = frame.astype(np.float32)
    fg = mask >= 128
    picture[fg] = picture[fg] * (1.0 - alpha) + FOREGROUND_TINT * alpha
    picture = np.rint(picture).astype(np.uint8)
    for x1, y1, x2, y2 in measure(mask, **measure_options).boxes.tolist():
        cv2.rectangle(picture, (x1, y1), (x2 - 1, y2 - 1), BOX_COLOUR, 1)
    return picture


class _MaskVideo:
    """Masks read from a video in step with the frames (channel 0 of each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.capture = cv2.VideoCapture(str(path))
        if not self.capture.isOpened():
            raise ValueError(f"masks {path}: OpenCV cannot open it as a video")
        self.position = 0          # 0-based index of the next mask

    def get(self, index: int) -> np.ndarray:
        if index < self.position:
            raise ValueError(f"masks {self.path}: mask {index} asked for after {self.position - 1}")
        while self.position < index:
            if not self.capture.grab():
                raise ValueError(f"masks {self.path} ends at {self.position} masks, before "
                                 f"frame {index + 1}")
            self.position += 1
        ok, mask = self.capture.read()
        if not ok:
            raise ValueError(f"masks {self.path} ends at {self.position} masks, before frame "
                             f"{index + 1}")
        self.position += 1
        return mask[:, :, 0] if mask.ndim == 3 else mask

    def close(self) -> None:
        self.capture.release()


def _mask_getter(masks: Any) -> tuple[Callable[[int], np.ndarray], Callable[[], None]]:
    if masks is None:
        raise ValueError("overlay=True needs masks= (a mask video, an array of masks or a "
                         "function of the frame index)")
    if isinstance(masks, (str, os.PathLike)):
        video = _MaskVideo(Path(masks))
        return video.get, video.close
    if callable(masks):
        return masks, lambda: None
    if hasattr(masks, "__getitem__"):
        return (lambda i: np.asarray(masks[i])), lambda: None
    raise ValueError(f"masks must be a path, an array of masks or a function, got "
                     f"{type(masks).__name__}")


class _Writer:
    def __init__(self, clip_path: Path, fourcc: str, fps: float, size: tuple[int, int]) -> None:
        self.path = clip_path
        # a temporary name with the clip's suffix: FFmpeg picks the container from it
        fd, self.tmp = _create_temp(clip_path, f".part{clip_path.suffix}")
        os.close(fd)
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.CAP_FFMPEG,
                                      cv2.VideoWriter_fourcc(*fourcc), fps, size, True)
        if not self.writer.isOpened():
            self.writer.release()
            self.tmp.unlink(missing_ok=True)
            raise RuntimeError(f"OpenCV cannot write a {fourcc} video to {clip_path}")
        self.size = size
        self.frames = 0

    def write(self, picture: np.ndarray) -> None:
        if self.writer.write(picture) is False:   # OpenCV 5 reports failures; 4.x returns None
            raise OSError(f"{self.path}: OpenCV failed to write frame {self.frames}")
        self.frames += 1

    def commit(self) -> None:
        self.writer.release()
        if self.frames == 0:
            self.tmp.unlink(missing_ok=True)
            return
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.release()
        self.tmp.unlink(missing_ok=True)


def decode_frames(capture: Any, last: int,
                  needed: Callable[[int], bool]) -> Iterator[tuple[int, np.ndarray]]:
    """``(number, frame)`` for the frames ``1..last`` of an open ``cv2.VideoCapture``
    that ``needed(number)`` asks for (1-based); the others are grabbed, not decoded.
    Stops early where the video ends."""
    number = 0
    while number < last:
        if not needed(number + 1):
            if not capture.grab():
                return
            number += 1
            continue
        ok, frame = capture.read()
        if not ok:
            return
        number += 1
        yield number, frame


def write_clips(video: str | os.PathLike[str], events: Iterable[Event],
                out_dir: str | os.PathLike[str], *, suffix: str = ".mkv",
                overlay: bool = False, masks: Any = None, fps: float | None = None,
                prefix: str = "event",
                measure_options: dict[str, Any] | None = None) -> list[Clip]:
    """Write each event's padded span of ``video`` as its own clip in ``out_dir``.

    Parameters
    ----------
    video : path
        The video the events were found in (frame numbers are its frames).
    events : iterable of Event
        Their ``clip_start_frame`` / ``clip_end_frame`` (1-based, inclusive)
        say which frames go in each clip.
    out_dir : path
        Created when missing.
    suffix : {".mkv", ".avi", ".mp4"}
    overlay : bool
        Tint foreground and box objects (needs ``masks``).
    masks : path, array-like or callable, optional
        The masks of the video's frames: a mask video (``bgmix run --masks``),
        anything indexable by the 0-based frame index, or ``masks(index)``.
    fps : float, optional
        Frame rate of the clips; default the video's (25 when it has none).
    prefix : str
        Start of each file name (:func:`clip_name`).
    measure_options : dict, optional
        Passed to :func:`bgmix.events.measure` for the overlay's boxes.

    Returns
    -------
    list of Clip
        In the order of the events' start.

    Raises
    ------
    ValueError
        A bad suffix, an unreadable video or masks, overlay without masks.
    RuntimeError
        OpenCV cannot write the codec.
    """
    suffix = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    if suffix not in CLIP_SUFFIXES:
        raise ValueError(f"clip suffix must be one of {', '.join(CLIP_SUFFIXES)}, got {suffix!r}")
    events = sorted(events, key=lambda e: (e.clip_start_frame, e.start_frame))
    for event in events:
        if event.clip_start_frame < 1 or event.clip_end_frame < event.clip_start_frame:
            raise ValueError(f"event {event.number}: clip frames {event.clip_start_frame}-"
                             f"{event.clip_end_frame} are not a span of frames numbered from 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [out / clip_name(e, suffix, prefix) for e in events]
    if len(set(names)) != len(names):
        raise ValueError("two events start at the same millisecond; give each list its own "
                         "prefix (zone events: prefix=zone name)")
    if not events:
        return []
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f"{video}: OpenCV cannot open it as a video")
    if fps is None:
        rate = capture.get(cv2.CAP_PROP_FPS)
        fps = float(rate) if np.isfinite(rate) and 0 < rate < 1000 else 25.0
    get_mask, close_masks = _mask_getter(masks) if overlay else (None, lambda: None)
    options = measure_options or {}
    writers: dict[int, _Writer] = {}
    done: list[Clip] = []
    following = 0                       # next event (in start order) to open
    last_needed = max(e.clip_end_frame for e in events)
    try:
        def needed(number: int) -> bool:  # read at the call: following and writers change
            return (following < len(events) and events[following].clip_start_frame <= number) \
                or bool(writers)

        for number, frame in decode_frames(capture, last_needed, needed):
            while following < len(events) and events[following].clip_start_frame <= number:
                event = events[following]
                if event.clip_end_frame >= number:
                    size = (int(frame.shape[1]), int(frame.shape[0]))
                    writers[following] = _Writer(names[following], CLIP_SUFFIXES[suffix], fps, size)
                following += 1
            if not writers:
                continue
            picture = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            if overlay:
                assert get_mask is not None
                picture = overlay_picture(frame, get_mask(number - 1), **options)
            for i in sorted(writers):
                writers[i].write(picture)
                if events[i].clip_end_frame <= number:
                    writer = writers.pop(i)
                    writer.commit()
                    done.append(Clip(events[i], writer.path, writer.frames))
        for i in sorted(writers):      # the video ended inside a clip: keep what it had
            writer = writers.pop(i)
            writer.commit()
            if writer.frames:
                done.append(Clip(events[i], writer.path, writer.frames))
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    finally:
        capture.release()
        with contextlib.suppress(Exception):
            close_masks()
    done.sort(key=lambda clip: (clip.event.start_s, clip.event.number))
    return done
