#!/usr/bin/env python
"""The mask-quality table: every bgmix preset and OpenCV's subtractors on every scene.

Scenes: every kind of :mod:`bgmix.synth` (written once to a temporary CDnet-layout
folder, so all methods read identical frames) and the shared CDnet 2014
``baseline`` sequences (highway, office, pedestrians) when ``../shared/data`` exists. Methods: each bgmix
preset, OpenCV MOG2 and KNN with and without a 5x5 median, ``cv2.bgsegm`` GSOC and
MOG when opencv-contrib is installed, and pybgs algorithms when pybgs is installed.
Every score is CDnet's (:mod:`bgmix.metrics`): counts summed over the temporal ROI.

Outputs: a Markdown table (stdout, and the "## Mask quality" section of
BENCHMARKS.md with ``--benchmarks``), a JSON file, and a PNG a person would rather
look at than read (matplotlib, the ``plot`` extra): for a few frames of each scene,
input / ground truth / bgmix / the best OpenCV method, and a bar chart of F.

Usage::

    python scripts/evaluate.py --benchmarks BENCHMARKS.md --picture docs/quality.png
    python scripts/evaluate.py --kinds baseline,shadow --size 160x120 --no-pybgs   # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import bgmix
from bgmix import evaluation, synth
from bgmix.metrics import load_cdnet_sequence
from bgmix.presets import PRESETS

REPO = Path(__file__).resolve().parents[1]
CDNET = REPO.parent / "shared" / "data" / "cdnet2014" / "baseline"
CDNET_SEQUENCES = ("highway", "office", "pedestrians")
"""The shared CDnet 2014 baseline sequences, scored when ``../shared/data`` exists."""
OPENCV_METHODS = ["mog2", "mog2+median", "knn", "knn+median", "gsoc", "mog"]
PYBGS_METHODS = ["SuBSENSE", "PixelBasedAdaptiveSegmenter", "ViBe"]
"""pybgs peers run by default (PAWCS, at ~80 ms/frame, only when asked with --pybgs-methods)."""


class PybgsMethod(evaluation.Method):
    """A pybgs (bgslibrary) algorithm; it reads ./config/*.xml, so it runs in a scratch folder."""

    def __init__(self, algorithm: str, workdir: Path) -> None:
        import pybgs

        self.name = f"pybgs:{algorithm}"
        self.params = None
        with _cwd(workdir):
            self.algorithm = getattr(pybgs, algorithm)()
        self.workdir = workdir

    def apply(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 2 or frame.dtype != np.uint8:
            frame = _to_bgr8(frame)
        with _cwd(self.workdir):
            mask = self.algorithm.apply(frame)
        mask = np.asarray(mask)
        return mask[:, :, 0] if mask.ndim == 3 else mask


def _to_bgr8(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8:
        frame = cv2.normalize(frame, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame


@contextmanager
def _cwd(path: Path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def methods_available(use_pybgs: bool, workdir: Path, pybgs_methods: list[str] = PYBGS_METHODS) -> list[Any]:
    methods: list[Any] = [f"bgmix:{name}" for name in PRESETS]
    opencv = set(evaluation.available_methods())
    methods += [m for m in OPENCV_METHODS if m in opencv]
    if use_pybgs:
        try:
            import pybgs  # noqa: F401
        except ImportError:
            print("pybgs is not installed: its algorithms are left out", file=sys.stderr)
        else:
            methods += [("pybgs", name) for name in pybgs_methods]
    return methods


def make(spec: Any, workdir: Path) -> evaluation.Method:
    if isinstance(spec, tuple):
        return PybgsMethod(spec[1], workdir)
    return evaluation.make_method(spec, n_threads=1)


def scenes(kinds: list[str], size: tuple[int, int], root: Path) -> list[tuple[str, Path]]:
    """Write each synthetic scene in CDnet layout; add the shared CDnet sequences that are there."""
    out = []
    for kind in kinds:
        height, width = size
        scene = synth.make_scene(kind, height=height, width=width, seed=0)
        folder = synth.write_cdnet(scene, root / kind)
        out.append((f"synthetic {kind}", folder))
    for name in CDNET_SEQUENCES:
        if (CDNET / name).is_dir():
            out.append((f"CDnet {name}", CDNET / name))
        else:
            print(f"{CDNET / name} is absent: that real sequence is left out", file=sys.stderr)
    return out


def evaluate_all(sequences, specs, workdir: Path) -> list[dict[str, Any]]:
    rows = []
    for label, folder in sequences:
        for spec in specs:
            method = make(spec, workdir)
            start = time.perf_counter()
            try:
                (result,) = evaluation.evaluate_methods_on_sequence([method], folder)
            except Exception as exc:  # a peer that cannot take this input (16-bit, grey)
                print(f"{label}: {method.name} failed: {exc}", file=sys.stderr)
                rows.append({"sequence": label, "method": method.name, "error": str(exc).splitlines()[0]})
                continue
            row = {
                "sequence": label, "method": method.name, "f_measure": result.f_measure,
                "precision": result.precision, "recall": result.recall, "pwc": result.pwc,
                "ms_per_frame": result.ms_per_frame_median, "n_frames": result.n_frames,
            }
            rows.append(row)
            print(f"{label:28s} {method.name:34s} F={row['f_measure']:.3f} "
                  f"{row['ms_per_frame']:.2f} ms/frame ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr)
    return rows


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"Command: `{command}` (bgmix {bgmix.__version__}, OpenCV {cv2.__version__}; "
        "1 thread for every method; ms/frame is the median time of `apply` alone).",
        "",
        "| sequence | method | F | precision | recall | PWC | ms/frame |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['sequence']} | {row['method']} | n/a | | | | | ")
            continue
        lines.append(
            f"| {row['sequence']} | {row['method']} | {_fmt(row['f_measure'], '.3f')} "
            f"| {_fmt(row['precision'], '.3f')} | {_fmt(row['recall'], '.3f')} "
            f"| {_fmt(row['pwc'], '.2f')} | {_fmt(row['ms_per_frame'], '.2f')} |")
    lines += ["", "Best bgmix and best OpenCV method per sequence (F):", "",
              "| sequence | best bgmix | F | best OpenCV | F | best overall | F |",
              "|---|---|---:|---|---:|---|---:|"]
    for sequence in dict.fromkeys(r["sequence"] for r in rows):
        scored = [r for r in rows if r["sequence"] == sequence and "error" not in r
                  and not math.isnan(r["f_measure"])]
        best = {}
        for group, test in [("bgmix", lambda m: m.startswith("bgmix")),
                            ("opencv", lambda m: not m.startswith(("bgmix", "pybgs"))),
                            ("all", lambda m: True)]:
            candidates = [r for r in scored if test(r["method"])]
            best[group] = max(candidates, key=lambda r: r["f_measure"]) if candidates else None
        cells = []
        for group in ("bgmix", "opencv", "all"):
            r = best[group]
            cells += [r["method"], f"{r['f_measure']:.3f}"] if r else ["n/a", ""]
        lines.append(f"| {sequence} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_section(path: Path, heading: str, body: str) -> None:
    text = path.read_text() if path.exists() else ""
    # The heading as a whole line ("## Mask quality" is also the start of
    # "### Mask quality per ...", and of "## Mask quality: the defaults").
    found = re.search(rf"^{re.escape(heading)}$", text, flags=re.MULTILINE)
    start = found.start() if found else -1
    if start < 0:
        text = text.rstrip() + f"\n\n{heading}\n\n{body}"
    else:
        after = text.find("\n## ", start + len(heading))
        rest = text[after:] if after >= 0 else "\n"
        text = text[:start] + f"{heading}\n\n{body}" + rest
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def picture(rows, sequences, specs, workdir: Path, out: Path, n_shots: int = 3) -> None:
    """Input / ground truth / bgmix / best OpenCV for a few frames, and F per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig_rows = []
    for label, folder in sequences:
        sequence = load_cdnet_sequence(folder)
        first, last = sequence.temporal_roi
        shots = set(np.linspace(first + (last - first) // 4, last, n_shots).astype(int))
        scored = [r for r in rows if r["sequence"] == label and "error" not in r]
        opencv = [r for r in scored if not r["method"].startswith(("bgmix", "pybgs"))]
        ours = [r for r in scored if r["method"].startswith("bgmix")]
        if not opencv or not ours:
            continue
        best_cv = max(opencv, key=lambda r: r["f_measure"])["method"]
        best_ours = max(ours, key=lambda r: r["f_measure"])["method"]
        runners = {name: make(name, workdir) for name in (best_ours, best_cv)}
        inputs = evaluation.find_input_frames(folder)
        for index, path in enumerate(inputs, start=1):
            frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            masks = {name: m.apply(frame) for name, m in runners.items()}
            if index in shots:
                fig_rows.append((label, index, _to_bgr8(frame), sequence.ground_truth(index),
                                 masks[best_ours], best_ours, masks[best_cv], best_cv))
            if index >= last:
                break
    n = len(fig_rows)
    fig = plt.figure(figsize=(12, 2.6 * n + 5))
    grid = fig.add_gridspec(n + 2, 4)
    for i, (label, index, frame, gt, m_ours, n_ours, m_cv, n_cv) in enumerate(fig_rows):
        panels = [(frame[:, :, ::-1], f"{label}, frame {index}"), (gt, "ground truth"),
                  (m_ours, n_ours), (m_cv, n_cv)]
        for j, (image, title) in enumerate(panels):
            ax = fig.add_subplot(grid[i, j])
            ax.imshow(image, cmap=None if image.ndim == 3 else "gray", vmin=0, vmax=255)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    ax = fig.add_subplot(grid[n:, :])
    labels = list(dict.fromkeys(r["sequence"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        values = []
        for label in labels:
            match = [r for r in rows if r["sequence"] == label and r["method"] == method
                     and "error" not in r]
            values.append(match[0]["f_measure"] if match else 0.0)
        ax.bar(np.arange(len(labels)) + k * width, np.nan_to_num(values), width, label=method)
    ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2)
    ax.set_xticklabels([label.replace("synthetic ", "") for label in labels], rotation=20, fontsize=8)
    ax.set_ylabel("F-measure (CDnet)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    fig.savefig(tmp, dpi=56)
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default=",".join(synth.scene_kinds()),
                        help="synthetic scene kinds, comma-separated (default: all)")
    parser.add_argument("--size", default="320x240", help="synthetic scene size WxH (default 320x240)")
    parser.add_argument("--no-pybgs", action="store_true", help="leave pybgs algorithms out")
    parser.add_argument("--pybgs-methods", default=",".join(PYBGS_METHODS),
                        help="pybgs algorithms to run, comma-separated (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write every row as JSON here")
    parser.add_argument("--benchmarks", type=Path, help="replace the '## Mask quality' section of this file")
    parser.add_argument("--picture", type=Path, help="write the comparison picture (PNG) here")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    kinds = [k for k in args.kinds.split(",") if k]
    command = "python scripts/evaluate.py " + " ".join(argv if argv is not None else sys.argv[1:])

    with tempfile.TemporaryDirectory(prefix="bgmix-eval-") as tmp:
        root = Path(tmp)
        workdir = root / "pybgs"
        (workdir / "config").mkdir(parents=True)  # pybgs reads and writes ./config/*.xml
        specs = methods_available(not args.no_pybgs, workdir,
                                  [m for m in args.pybgs_methods.split(",") if m])
        sequences = scenes(kinds, (height, width), root)
        rows = evaluate_all(sequences, specs, workdir)
        text = markdown(rows, command.strip())
        print(text)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1, default=lambda v: None))
        if args.benchmarks:
            picture_note = ""
            if args.picture:
                picture_note = f"\n![input, ground truth, bgmix, best OpenCV; F per method]({os.path.relpath(args.picture, args.benchmarks.parent)})\n"
            replace_section(args.benchmarks, "## Mask quality", text + picture_note)
        if args.picture:
            picture(rows, sequences, specs, workdir, args.picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
