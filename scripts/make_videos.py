#!/usr/bin/env python
"""Generate the bundled clips and their exact ground truth into ``videos/``.

Every clip is a synthetic scene of :mod:`bgmix.synth`, rendered from the
parameters listed below (``make_scene(**params)`` renders exactly what was
encoded), with its CDnet ground truth (0 static, 50 hard shadow, 255 motion).

The sample (the CLI's default input), lossless:

* ``sample.mkv``: the ``"baseline"`` scene (see ``SAMPLE``), FFV1 ``bgr0`` in
  Matroska; a plain ``cv2.VideoCapture(path).read()`` returns the generated
  frames bit-exactly.
* ``sample_groundtruth.mkv``: the labels, FFV1 ``gray8``. ``cv2.VideoCapture``
  returns them as three equal BGR channels by default: take channel 0. (Opening
  it with ``[cv2.CAP_PROP_CONVERT_RGB, 0]`` returns (H, W) directly, with a
  warning.)
* ``sample.json``: the generator's parameters, the temporal region of interest
  (CDnet ``temporalROI``, 1-based) and how to decode the files.

One small clip per CDnet hard case (see ``CATEGORIES``), 160x120:

* ``<kind>.avi``: the input, Motion JPEG (4:4:4 chroma, quality ``JPEG_QUALITY``)
  in AVI; LOSSY, about 31-39 dB PSNR against the generated frames (recorded
  per clip). FFV1 would cost 25-40 KB per noisy 160x120 frame, about three
  times as much, and the category clips would not fit the size budget. For
  the exact frames, render ``make_scene(**params)`` (or ``write_cdnet`` it).
  OpenCV's own writers only make 4:2:0 Motion JPEG (31-32 dB: colour edges
  bleed), so this script muxes the JPEGs ``cv2.imencode`` makes itself.
* ``thermal.mkv``: the thermal clip, lossless FFV1 ``gray16le``: open it with
  ``cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_CONVERT_RGB, 0])`` to
  get the (H, W) uint16 frames bit-exactly (the default conversion returns 8-bit
  BGR).
* ``<kind>_groundtruth.mkv``: the labels, lossless FFV1 ``gray8`` (as above).

and ``videos.json`` (every clip: files, parameters, frames, fps, temporal ROI,
labels present, encoding, PSNR, bytes) and ``README.md`` (the same as a table).

Every file is written under a temporary name and renamed into place, then
decoded and compared with a fresh rendering of its scene: the script fails if a
lossless file differs by one bit or a lossy one falls under ``MIN_PSNR``.
Running it twice gives identical decoded frames; the ``.avi`` files are
byte-identical too. The ``.mkv`` bytes would differ (the Matroska muxer stamps
a random segment UID), so a lossless file that already decodes to exactly its
scene is left alone (``--force`` rewrites it): regenerating does not churn the
repository.

Why 160x120 and these lengths: FFV1 is intra-only, so every frame pays for its
sensor noise (the 300-frame sample alone takes about 7.9 MB); the whole folder
must stay under 20 MB.

Usage::

    python scripts/make_videos.py [--out DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time
from collections.abc import Iterable, Iterator
from fractions import Fraction
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

#: One clip per scene kind: ``make_scene(kind, **CLIP_BASE, **CATEGORIES[kind])``.
#: Seed 0 and 160x120 like the sample, so each is the sample's scene (background,
#: objects) plus one difficulty, where the kind allows.
CLIP_BASE: dict[str, Any] = {"height": 120, "width": 160, "seed": 0}
CATEGORIES: dict[str, dict[str, Any]] = {
    "dynamic_background": {"n_frames": 140},
    "camera_jitter": {"n_frames": 150},
    "shadow": {"n_frames": 150},
    # ramp from frame 30 to 140 (gain 1 -> 0.6), lights on at frame 100 in a box
    "illumination": {"n_frames": 150, "ramp_frames": 110, "switch_frame": 100},
    # the car parks for 120 frames, the standing box is taken away at frame 60
    "intermittent_object": {"n_frames": 280, "stop_frames": 120, "remove_frame": 60,
                            "object_interval": 90.0},
    "thermal": {"n_frames": 100},
    "low_framerate": {"n_frames": 80},
    "heavy_noise": {"n_frames": 130},
}
JPEG_QUALITY = 90
MIN_PSNR = 28.0
INDEX_NAME = "videos.json"
README_NAME = "README.md"
SIZE_BUDGET = 20_000_000

LABEL_NAMES = {0: "static", 50: "hard shadow", 85: "outside ROI", 170: "unknown motion",
               255: "motion"}


# --------------------------------------------------------------------------- writing


def _replace_atomic(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)


def write_video(path: Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: float,
                is_color: bool, *, depth16: bool = False) -> int:
    """Write ``frames`` losslessly (FFV1 in .mkv) to ``path`` atomically; return the count.

    ``size`` is ``(width, height)``; frames are (H, W, 3) BGR when ``is_color``,
    (H, W) uint8 otherwise, or (H, W) uint16 with ``depth16`` (FFV1 ``gray16le``).
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial.mkv")  # cv2 needs the suffix
    params = [cv2.VIDEOWRITER_PROP_IS_COLOR, int(is_color)]
    if depth16:
        params += [cv2.VIDEOWRITER_PROP_DEPTH, cv2.CV_16U]
    writer = cv2.VideoWriter(str(tmp), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), fps,
                             size, params)
    count = 0
    try:
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write FFV1 to {tmp} (no FFmpeg backend?)")
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
            count += 1
        writer.release()
        _replace_atomic(tmp, path)
    finally:
        writer.release()
        if tmp.exists():
            tmp.unlink()
    return count


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, body: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", len(body) + 4) + kind + body


def mjpeg_avi(jpegs: list[bytes], width: int, height: int, fps: float) -> bytes:
    """An AVI file (RIFF, one Motion JPEG video stream, ``idx1`` index) holding ``jpegs``."""
    if not jpegs:
        raise ValueError("no frames to write")
    rate = Fraction(fps).limit_denominator(1001)
    largest = max(len(j) for j in jpegs)
    avih = struct.pack("<14I", round(1e6 / fps), math.ceil(largest * fps), 0,
                       0x10,                                   # AVIF_HASINDEX
                       len(jpegs), 0, 1, largest, width, height, 0, 0, 0, 0)
    strh = struct.pack("<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0,
                       rate.denominator, rate.numerator, 0, len(jpegs), largest,
                       0xFFFFFFFF, 0, 0, 0, width, height)
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG",
                       width * height * 3, 0, 0, 0, 0)
    header = _list(b"hdrl", _chunk(b"avih", avih)
                   + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf)))
    movi, index = bytearray(), bytearray()
    for jpeg in jpegs:
        index += struct.pack("<4sIII", b"00dc", 0x10, 4 + len(movi), len(jpeg))  # key frame
        movi += _chunk(b"00dc", jpeg)
    body = b"AVI " + header + _list(b"movi", bytes(movi)) + _chunk(b"idx1", bytes(index))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_mjpeg(path: Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: float,
                quality: int) -> int:
    """Write BGR ``frames`` as 4:4:4 Motion JPEG in AVI to ``path`` atomically; return the count."""
    options = [cv2.IMWRITE_JPEG_QUALITY, quality,
               cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    jpegs = []
    for frame in frames:
        ok, data = cv2.imencode(".jpg", np.ascontiguousarray(frame), options)
        if not ok:
            raise RuntimeError(f"OpenCV could not encode a frame of {path.name} as JPEG")
        jpegs.append(data.tobytes())
    data = mjpeg_avi(jpegs, size[0], size[1], fps)
    if path.exists() and path.read_bytes() == data:
        return len(jpegs)                            # same bytes: leave the file alone
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        _replace_atomic(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return len(jpegs)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    _replace_atomic(tmp, path)


# --------------------------------------------------------------------------- reading


def read_video(path: Path, *, grey: bool = False, raw: bool = False) -> Iterator[np.ndarray]:
    """Decode ``path`` with ``cv2.VideoCapture``.

    ``grey`` returns channel 0 of each (three equal channels) frame; ``raw``
    turns OpenCV's BGR conversion off and returns the decoded pixels as they
    are ((H, W) uint16 for FFV1 ``gray16le``).
    """
    params = [cv2.CAP_PROP_CONVERT_RGB, 0] if raw else []
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
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


def decodes_to(path: Path, expected: Iterable[np.ndarray], **read: bool) -> bool:
    """Whether ``path`` exists and decodes (``read_video(path, **read)``) to exactly ``expected``."""
    if not path.exists():
        return False
    sentinel = object()
    try:
        decoded = read_video(path, **read)
        for want in expected:
            got = next(decoded, sentinel)
            if got is sentinel or not np.array_equal(want, got) or \
                    getattr(got, "dtype", None) != want.dtype:
                return False
        return next(decoded, sentinel) is sentinel
    except RuntimeError:
        return False


def video_fps(path: Path) -> float:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        return float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()


# --------------------------------------------------------------------------- the sample


def verify(out: Path, params: dict[str, Any]) -> None:
    """Decode both sample videos and compare them, pixel for pixel, with a fresh rendering."""
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


def make_sample(out: Path, params: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """Render the sample scene into ``out`` (video, ground truth, metadata) and verify it.

    Files that already decode to exactly the scene are kept unless ``force``
    (rewriting them would change their bytes, not their frames).
    """
    out.mkdir(parents=True, exist_ok=True)
    stream = iter_scene(**params)
    size = (stream.width, stream.height)
    frames = len(stream)
    if force or not decodes_to(out / VIDEO_NAME, (f for f, _ in stream)):
        frames = write_video(out / VIDEO_NAME, (f for f, _ in stream), size, stream.fps, True)
    if force or not decodes_to(out / GROUNDTRUTH_NAME, (g for _, g in stream), grey=True):
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
    _write_text(out / META_NAME, json.dumps(meta, indent=2) + "\n")
    return meta


# Kept for callers of the previous version of this script.
make_videos = make_sample


# --------------------------------------------------------------------------- category clips


def clip_params(kind: str) -> dict[str, Any]:
    """``make_scene(**clip_params(kind))`` renders the clip ``kind`` of ``videos/``."""
    return {"kind": kind, **CLIP_BASE, **CATEGORIES[kind]}


def clip_files(kind: str) -> tuple[str, str]:
    """(input video, ground-truth video) file names of the clip ``kind``."""
    video = f"{kind}.mkv" if kind == "thermal" else f"{kind}.avi"
    return video, f"{kind}_groundtruth.mkv"


def _psnr(squared_error: float, count: int, peak: float) -> float:
    if squared_error == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak * count / squared_error)


def make_clip(out: Path, kind: str, quality: int = JPEG_QUALITY,
              force: bool = False) -> dict[str, Any]:
    """Render the clip of ``kind`` into ``out``, verify it, return its index entry.

    Lossless files that already decode to exactly the scene are kept unless
    ``force``; the Motion JPEG file is rewritten only when its bytes change.
    """
    out.mkdir(parents=True, exist_ok=True)
    params = clip_params(kind)
    stream = iter_scene(**params)
    size = (stream.width, stream.height)
    video_name, truth_name = clip_files(kind)
    video, truth = out / video_name, out / truth_name
    thermal = stream.dtype == np.uint16
    frames = len(stream)
    if thermal:
        if force or not decodes_to(video, (f for f, _ in stream), raw=True):
            frames = write_video(video, (f for f, _ in stream), size, stream.fps, False,
                                 depth16=True)
        encoding = ("FFV1 gray16le in Matroska, lossless; open with cv2.VideoCapture(path, "
                    "cv2.CAP_FFMPEG, [cv2.CAP_PROP_CONVERT_RGB, 0]) for the (H, W) uint16 frames")
    else:
        frames = write_mjpeg(video, (f for f, _ in stream), size, stream.fps, quality)
        encoding = (f"Motion JPEG in AVI, 4:4:4, quality {quality}; LOSSY: render "
                    "make_scene(**params) for the exact frames")
    if force or not decodes_to(truth, (g for _, g in stream), grey=True):
        write_video(truth, (g for _, g in stream), size, stream.fps, False)

    # verify: labels bit-exact, thermal bit-exact, JPEG within MIN_PSNR
    labels: set[int] = set()
    squared, count, n = 0.0, 0, 0
    decoded = zip(read_video(video, raw=thermal), read_video(truth, grey=True))
    for n, ((frame, gt), (frame_read, gt_read)) in enumerate(zip(stream, decoded), start=1):
        if not np.array_equal(gt, gt_read):
            raise RuntimeError(f"{truth_name}: frame {n} does not decode bit-exactly")
        labels.update(np.unique(gt).tolist())
        if frame_read.shape != frame.shape:
            raise RuntimeError(f"{video_name}: frame {n} decodes as {frame_read.shape} "
                               f"{frame_read.dtype}, expected {frame.shape} {frame.dtype}")
        if thermal:
            if frame_read.dtype != frame.dtype or not np.array_equal(frame, frame_read):
                raise RuntimeError(f"{video_name}: frame {n} does not decode bit-exactly")
        else:
            diff = frame.astype(np.float64) - frame_read
            squared += float(np.dot(diff.ravel(), diff.ravel()))
            count += diff.size
    if n != len(stream) or frames != len(stream):
        raise RuntimeError(f"{kind}: decoded {n} frame pairs, expected {len(stream)}")
    psnr = None if thermal else round(_psnr(squared, count, 255.0), 2)
    if psnr is not None and psnr < MIN_PSNR:
        raise RuntimeError(f"{video_name}: {psnr} dB PSNR, under {MIN_PSNR} dB")
    fps_read = video_fps(video)
    if abs(fps_read - stream.fps) > 1e-3 * stream.fps:
        raise RuntimeError(f"{video_name}: decodes at {fps_read} fps, expected {stream.fps}")
    first, last = stream.temporal_roi
    return {
        "name": kind,
        "kind": stream.kind,
        "video": video_name,
        "groundtruth": truth_name,
        "params": dict(stream.params),
        "frames": n,
        "size": {"width": stream.width, "height": stream.height},
        "dtype": str(stream.dtype),
        "fps": stream.fps,
        "temporal_roi": [first, last],
        "labels": {str(v): LABEL_NAMES[v] for v in sorted(labels)},
        "lossless": thermal,
        "psnr_db": psnr,
        "encoding": {video_name: encoding,
                     truth_name: "FFV1 gray8 in Matroska, lossless; cv2.VideoCapture returns "
                                 "3 equal channels, take channel 0"},
        "info": _json_info(stream.info),
    }


def _json_info(info: Any) -> dict[str, Any]:
    """The scalar, JSON-friendly entries of a scene's ``info`` (no per-frame arrays)."""
    keep = {}
    for key, value in info.items():
        if key in ("objects", "boats", "gain", "shifts", "shadow_offsets"):
            continue
        keep[key] = list(value) if isinstance(value, tuple) else value
    return keep


def _sample_entry(meta: dict[str, Any]) -> dict[str, Any]:
    return {"name": "sample", "kind": meta["kind"], "video": meta["video"],
            "groundtruth": meta["groundtruth"], "params": meta["params"],
            "frames": meta["frames"], "size": meta["size"], "dtype": "uint8",
            "fps": meta["fps"], "temporal_roi": meta["temporal_roi"], "labels": meta["labels"],
            "lossless": True, "psnr_db": None, "encoding": meta["encoding"], "info": {}}


def write_index(out: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Write ``videos.json`` and ``README.md`` describing ``entries``; return the index."""
    for entry in entries:
        entry["bytes"] = {name: (out / name).stat().st_size
                          for name in (entry["video"], entry["groundtruth"])}
    index = {
        "generator": "bgmix.synth.make_scene",
        "regenerate": "python scripts/make_videos.py",
        "exact_frames": "bgmix.synth.make_scene(**clip['params'], kind=clip['kind'])",
        "clips": entries,
    }
    _write_text(out / INDEX_NAME, json.dumps(index, indent=2) + "\n")
    rows = []
    total = sum(sum(e["bytes"].values()) for e in entries)
    for e in entries:
        lossy = "lossless" if e["lossless"] else f"lossy, {e['psnr_db']:.1f} dB"
        size = sum(e["bytes"].values()) / 1e6
        rows.append(f"| `{e['video']}` | `{e['groundtruth']}` | {e['kind']} | "
                    f"{e['size']['width']}x{e['size']['height']} | {e['frames']} | "
                    f"{e['fps']:g} | {e['temporal_roi'][0]}-{e['temporal_roi'][1]} | "
                    f"{', '.join(e['labels'])} | {lossy} | {size:.2f} |")
    readme = f"""# Bundled clips

Synthetic scenes of `bgmix.synth`, each with its exact CDnet ground truth
(0 static, 50 hard shadow, 85 outside ROI, 170 unknown motion, 255 motion),
made by `python scripts/make_videos.py`; `videos.json` lists every clip's
generator parameters: `bgmix.synth.make_scene(clip["kind"], **clip["params"])`
renders the exact frames, and `clip["info"]` holds what the generator knows beyond
the labels (e.g. the parked car's stationary span). The first `warmup` frames hold no motion and are outside the temporal
region of interest (CDnet `temporalROI`, 1-based, inclusive).

| input | ground truth | kind | size | frames | fps | temporal ROI | labels | input encoding | MB |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{total / 1e6:.2f} MB of clips in all (budget: the whole folder under {SIZE_BUDGET / 1e6:.0f} MB).

* `sample.mkv` (the CLI's default input) is lossless FFV1; `cv2.VideoCapture`
  returns the generated BGR frames bit-exactly.
* The `.avi` inputs are Motion JPEG (4:4:4, quality {JPEG_QUALITY}): lossy, the PSNR
  against the generated frames is in the table. Lossless FFV1 would take about
  three times the space. Score against the ground truth as usual; for exact
  frames render the scene (or `bgmix.synth.write_cdnet` it to a CDnet folder).
* `thermal.mkv` is lossless 16-bit FFV1 (`gray16le`): open it with
  `cv2.VideoCapture(path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_CONVERT_RGB, 0])` to get
  (H, W) uint16 frames; without that flag OpenCV converts it to 8-bit BGR.
* Ground truth files are lossless FFV1 `gray8`; `cv2.VideoCapture` returns three
  equal channels: take channel 0.
"""
    _write_text(out / README_NAME, readme)
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        choices=["sample", *CATEGORIES],
                        help="write only these clips (sample and/or kinds); the index lists "
                             "the clips present in the folder")
    parser.add_argument("--seed", type=int, default=SAMPLE["seed"],
                        help=f"sample scene seed (default: {SAMPLE['seed']})")
    parser.add_argument("--height", type=int, default=SAMPLE["height"])
    parser.add_argument("--width", type=int, default=SAMPLE["width"])
    parser.add_argument("--frames", type=int, default=SAMPLE["n_frames"])
    parser.add_argument("--noise-sigma", type=float, default=SAMPLE["noise_sigma"])
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY,
                        help=f"JPEG quality of the category inputs (default {JPEG_QUALITY})")
    parser.add_argument("--force", action="store_true",
                        help="rewrite lossless files even when they already decode to the "
                             "exact scene (their bytes change: Matroska segment UIDs)")
    args = parser.parse_args(argv)
    params = {**SAMPLE, "seed": args.seed, "height": args.height, "width": args.width,
              "n_frames": args.frames, "noise_sigma": args.noise_sigma}
    wanted = args.only or ["sample", *CATEGORIES]
    start = time.perf_counter()
    out: Path = args.out
    try:
        entries = []
        if "sample" in wanted:
            entries.append(_sample_entry(make_sample(out, params, args.force)))
        elif (out / META_NAME).exists():
            entries.append(_sample_entry(json.loads((out / META_NAME).read_text())))
        for kind in CATEGORIES:
            if kind in wanted:
                entries.append(make_clip(out, kind, args.quality, args.force))
                print(f"{kind}: {entries[-1]['frames']} frames, "
                      f"{'lossless' if entries[-1]['lossless'] else entries[-1]['psnr_db']}"
                      f"{'' if entries[-1]['lossless'] else ' dB'}", flush=True)
            elif all((out / name).exists() for name in clip_files(kind)) and \
                    (out / INDEX_NAME).exists():
                old = {e["name"]: e for e in json.loads((out / INDEX_NAME).read_text())["clips"]}
                if kind in old:
                    entries.append(old[kind])
        write_index(out, entries)
    except (RuntimeError, ValueError) as error:
        print(f"make_videos: {error}", file=sys.stderr)
        return 1
    total = 0
    for path in sorted(out.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            size = path.stat().st_size
            total += size
            print(f"{path}: {size / 1e6:.2f} MB")
    print(f"total {total / 1e6:.2f} MB in {out}, {time.perf_counter() - start:.1f} s")
    if out.resolve() == DEFAULT_OUT.resolve() and total >= SIZE_BUDGET:
        print(f"make_videos: {out} holds {total / 1e6:.1f} MB, over the "
              f"{SIZE_BUDGET / 1e6:.0f} MB budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
