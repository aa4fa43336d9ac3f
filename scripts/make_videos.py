#!/usr/bin/env python
"""Generate the bundled sample clip and its ground truth into ``videos/``.

Writes, losslessly (FFV1 in Matroska, through ``cv2.VideoWriter``):

* ``sample.mkv``: the ``"baseline"`` synthetic scene of :mod:`bgmix.synth`
  (see ``SAMPLE`` below), BGR. OpenCV stores it as FFV1 ``bgr0``; a plain
  ``cv2.VideoCapture(path).read()`` returns the generated frames bit-exactly.
* ``sample_groundtruth.mkv``: the CDnet labels (0 static, 255 motion), written
  single-channel (FFV1 ``gray8``). ``cv2.VideoCapture`` returns it as three equal
  BGR channels by default: take channel 0. (Opening it with
  ``[cv2.CAP_PROP_CONVERT_RGB, 0]`` returns (H, W) directly, with a warning.)
* ``sample.json``: the generator's parameters, the temporal region of interest
  (CDnet ``temporalROI``, 1-based) and how to decode the files.

Every file is written under a temporary name and renamed into place, then read
back and compared with a fresh rendering of the scene; the script fails if any
pixel differs. Running it twice gives identical decoded frames (the ``.mkv``
bytes differ: the Matroska muxer stamps a random segment UID).

Why 160x120: FFV1 is intra-only, so every frame pays for its sensor noise;
at 320x240 x 300 frames the clip takes 34 MB with noise sigma 2.5 and 14 MB
even without noise. 160x120 x 300 frames with sigma 1.5 keeps ``videos/``
under 8 MB. Use ``--height/--width/--frames/--noise-sigma`` for other variants
(for local use, not for the repository).

Usage::

    python scripts/make_videos.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.synth import iter_scene

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "videos"

#: The bundled clip: ``make_scene(**SAMPLE)`` renders exactly what ``sample.mkv`` holds.
SAMPLE: dict[str, Any] = {
    "kind": "baseline",
    "height": 120,
    "width": 160,
    "n_frames": 300,
    "seed": 0,
    "fps": 25.0,
    "noise_sigma": 1.5,
}
VIDEO_NAME = "sample.mkv"
GROUNDTRUTH_NAME = "sample_groundtruth.mkv"
META_NAME = "sample.json"


def write_video(path: Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: float,
                is_color: bool) -> int:
    """Write ``frames`` losslessly (FFV1 in .mkv) to ``path`` atomically; return the count.

    ``size`` is ``(width, height)``; frames are (H, W, 3) BGR when ``is_color``,
    (H, W) uint8 otherwise.
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial.mkv")  # cv2 needs the suffix
    writer = cv2.VideoWriter(str(tmp), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), fps,
                             size, [cv2.VIDEOWRITER_PROP_IS_COLOR, int(is_color)])
    count = 0
    try:
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write FFV1 to {tmp} (no FFmpeg backend?)")
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
            count += 1
        writer.release()
        os.replace(tmp, path)
    finally:
        writer.release()
        if tmp.exists():
            tmp.unlink()
    return count


def read_video(path: Path, *, grey: bool = False) -> Iterator[np.ndarray]:
    """Decode ``path`` with ``cv2.VideoCapture``; ``grey`` returns channel 0 of each frame."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise RuntimeError(f"OpenCV cannot open {path}")
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            if grey:
                if not (np.array_equal(frame[:, :, 0], frame[:, :, 1])
                        and np.array_equal(frame[:, :, 0], frame[:, :, 2])):
                    raise RuntimeError(f"{path}: grey frame decoded with unequal channels")
                frame = frame[:, :, 0]
            yield frame
    finally:
        capture.release()


def verify(out: Path, params: dict[str, Any]) -> None:
    """Decode both videos and compare them, pixel for pixel, with a fresh rendering."""
    stream = iter_scene(**params)
    decoded = zip(read_video(out / VIDEO_NAME), read_video(out / GROUNDTRUTH_NAME, grey=True))
    n = 0
    for n, ((frame, gt), (frame_read, gt_read)) in enumerate(zip(stream, decoded), start=1):
        if not np.array_equal(frame, frame_read):
            raise RuntimeError(f"{VIDEO_NAME}: frame {n} does not decode bit-exactly")
        if not np.array_equal(gt, gt_read):
            raise RuntimeError(f"{GROUNDTRUTH_NAME}: frame {n} does not decode bit-exactly")
    if n != len(stream):
        raise RuntimeError(f"decoded {n} frame pairs, expected {len(stream)}")


def make_videos(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Render the scene into ``out`` (video, ground truth, metadata) and verify it."""
    out.mkdir(parents=True, exist_ok=True)
    stream = iter_scene(**params)
    size = (stream.width, stream.height)
    frames = write_video(out / VIDEO_NAME, (f for f, _ in stream), size, stream.fps, True)
    write_video(out / GROUNDTRUTH_NAME, (g for _, g in stream), size, stream.fps, False)
    verify(out, params)
    first, last = stream.temporal_roi
    meta = {
        "video": VIDEO_NAME,
        "groundtruth": GROUNDTRUTH_NAME,
        "generator": "bgmix.synth.make_scene",
        "kind": stream.kind,
        "params": dict(stream.params),
        "frames": frames,
        "size": {"width": stream.width, "height": stream.height},
        "fps": stream.fps,
        "temporal_roi": [first, last],
        "labels": {"0": "static", "255": "motion"},
        "encoding": {
            VIDEO_NAME: "FFV1 bgr0 in Matroska, lossless; cv2.VideoCapture returns the BGR "
                        "frames exactly",
            GROUNDTRUTH_NAME: "FFV1 gray8 in Matroska, lossless; cv2.VideoCapture returns 3 "
                              "equal channels, take channel 0",
        },
    }
    tmp = out / f".{META_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, out / META_NAME)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=SAMPLE["seed"],
                        help=f"scene seed (default: {SAMPLE['seed']})")
    parser.add_argument("--height", type=int, default=SAMPLE["height"])
    parser.add_argument("--width", type=int, default=SAMPLE["width"])
    parser.add_argument("--frames", type=int, default=SAMPLE["n_frames"])
    parser.add_argument("--noise-sigma", type=float, default=SAMPLE["noise_sigma"])
    args = parser.parse_args(argv)
    params = {**SAMPLE, "seed": args.seed, "height": args.height, "width": args.width,
              "n_frames": args.frames, "noise_sigma": args.noise_sigma}
    start = time.perf_counter()
    try:
        make_videos(args.out, params)
    except (RuntimeError, ValueError) as error:
        print(f"make_videos: {error}", file=sys.stderr)
        return 1
    total = 0
    for name in (VIDEO_NAME, GROUNDTRUTH_NAME, META_NAME):
        size = (args.out / name).stat().st_size
        total += size
        print(f"{args.out / name}: {size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB, {params['n_frames']} frames of "
          f"{params['width']}x{params['height']}, verified bit-exact, "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
