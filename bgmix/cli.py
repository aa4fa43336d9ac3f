"""The ``bgmix`` command: ``bgmix run`` writes foreground masks, ``bgmix eval``
scores them on CDnet-layout sequences (against OpenCV's subtractors with
``--compare``), ``bgmix info`` describes the installation.

Every :class:`~bgmix.BackgroundMixture` constructor parameter becomes a
``bgmix run`` and ``bgmix eval`` option (``n_components`` -> ``--n-components``, booleans as
``--detect-shadows/--no-detect-shadows``), generated from the constructor's
signature and docstring, so new parameters appear without touching this file.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import os
import platform
import re
import signal
import sys
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import bgmix
from bgmix.model import BackgroundMixture

__all__ = ["main", "build_parser", "default_source", "display_available", "model_options",
           "read_config"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT; SIGTERM gives 143

_EXAMPLES = """\
Examples:
  bgmix run                                   # bundled sample clip -> bgmix-out/sample/masks.mkv
  bgmix run traffic.mp4 -o out/ --history 200 --var-threshold 25
  bgmix run traffic.mp4 --mot --jsonl --overlay        # out: det.txt, blobs.jsonl, overlay.mkv
  bgmix run traffic.mp4 --masks m.mkv --overlay view.mp4 --median 5 --min-area 30
  bgmix run cdnet/baseline/highway/input --format png   # -> bgmix-out/highway/masks/bin000001.png ...
  bgmix run "frames/*.jpg" --max-frames 100 --no-detect-shadows
  bgmix run http://camera.local/stream.mjpg --jsonl live.jsonl --preview
  bgmix run clip.mp4 --config settings.toml --history 300   # flags override the file
  bgmix batch "videos/*.mp4" --out results/ --jobs 2 --mot  # one folder per video
  bgmix eval cdnet/baseline/highway --compare mog2,knn+median   # CDnet F-measure, side by side
  bgmix info                                  # versions, threading layer, Numba cache

Exit status: 0 done; 1 a runtime failure (an output cannot be written: disk full, no
permission; a batch video failed); 2 bad arguments or input (missing file, not a video,
parameter out of range); 130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM: outputs are closed
and keep every frame written so far.
"""

_RUN_EXAMPLES = """\
Examples:
  bgmix run                                   # bundled sample clip -> bgmix-out/sample/masks.mkv
  bgmix run traffic.mp4 -o out/               # out/masks.mkv (FFV1, lossless)
  bgmix run traffic.mp4 -o out/ --mot --jsonl --csv --overlay --background
                      # out/det.txt blobs.jsonl blobs.csv overlay.mkv background.mkv (no masks)
  bgmix run traffic.mp4 --masks masks/ --overlay view.avi   # PNG masks bin000001.png ...
  bgmix run traffic.mp4 --preset mog2 --median 5 --open 3 --min-area 40 --shadows fold --mot
  bgmix run traffic.mp4 --config settings.toml --var-threshold 30
  bgmix run rtsp://10.0.0.5/stream --jsonl live.jsonl --preview   # live stats, a window
  bgmix run 0 --overlay --reconnect-attempts 100                 # the first camera
  bgmix run traffic.mp4 --bootstrap 60 --bootstrap-components bic --covariance-type full
                      # fit by EM on the first 60 frames, then learn online

Put SOURCE before output flags: an output flag without a value takes the default name in
OUTDIR, and a value right after it is taken as its path.

settings.toml (keys: model parameter names and the long options, with _ for -):
  history = 300
  var_threshold = 25.0
  detect_shadows = false
  median = 5
  mot = "out/det.txt"      # or true for OUTDIR/det.txt
Flags given on the command line override the file; the file overrides --preset.

Exit status: 0 done; 1 an output cannot be written (disk full, permission) or a stream
was lost for good; 2 bad arguments or input; 130 Ctrl-C (SIGINT), 143 SIGTERM, with every
output closed and keeping the frames written so far.
"""

_BATCH_EXAMPLES = """\
Examples:
  bgmix batch videos/ --out results/                    # every video in the folder
  bgmix batch "cams/**/*.mp4" extra.avi --out results/ --jobs 2 --mot --jsonl
  bgmix batch "cdnet/*/*/input" --out masks/ --format png   # image folders, CDnet naming
  bgmix batch videos/ --out results/ --force            # redo videos already done
  bgmix batch videos/ --out results/ --scheduler dask --dask-address tcp://10.0.0.2:8786

Each video gets results/<name>/ (the file stem; -2, -3 ... when stems repeat) with its
outputs (names inside that folder; masks.mkv when none is asked for) and done.json, written
last. Videos whose folder holds done.json are skipped, so a batch that was stopped (Ctrl-C,
SIGTERM) or failed part-way does only the rest when started again. A bad file is reported
and the others go on. At the end: a table (video, frames, fps, status) and
results/summary.json. Exit status: 0 all done or skipped, 1 any failed, 2 bad arguments,
130/143 stopped by SIGINT/SIGTERM (finished videos keep their done.json).
"""

_EVAL_USAGE = """\
bgmix eval SEQUENCE_DIR [--preset P] [model options] [--compare M1,M2,...] [--threads N]
                       [--json [FILE]] [-q]
       bgmix eval PRED_DIR GT_DIR [--json [FILE]]"""

_EVAL_DESCRIPTION = """\
Score foreground masks with the CDnet 2014 rules: motion (255) is positive, static and hard
shadow negative, unknown motion and outside-ROI ignored; only the frames of temporalROI.txt
are scored, and a mask pixel is motion when it is 255 (shadow 127 is not).

  bgmix eval SEQUENCE_DIR      run bgmix over a CDnet-layout folder (input/in000001.jpg ...,
                               groundtruth/gt000001.png ..., ROI.bmp, temporalROI.txt) and
                               score it; --compare runs more methods on the same decoded
                               frames, in the same single pass
  bgmix eval PRED_DIR GT_DIR   score saved masks PRED_DIR/bin000001.png ... against GT_DIR

ms/frame is the median time of each method's own apply (decoding and scoring excluded).
Prints a table, or JSON with --json.
"""

_EVAL_EXAMPLES = """\
Examples:
  bgmix eval cdnet/baseline/highway                        # bgmix (MOG2 defaults) on one sequence
  bgmix eval cdnet/baseline/highway --compare mog2,mog2+median,knn+median
  bgmix eval cdnet/baseline/highway --compare all --threads 1 --json results.json
  bgmix eval cdnet/baseline/highway --history 200 --var-threshold 25 --json
  bgmix run cdnet/baseline/highway/input --format png -o out   # save masks, then score them:
  bgmix eval out/masks cdnet/baseline/highway

Methods for --compare (OpenCV default parameters): mog2, knn, and with opencv-contrib-python
(cv2.bgsegm) gsoc, mog, cnt; "NAME+median" adds a 5x5 median filter to the mask; "bgmix" and
"bgmix:PRESET" are bgmix models; "all" is every OpenCV method this installation has.
Put --json last, or write --json=FILE: "--json DIR" would take DIR as the output file.
"""


def default_source() -> Path:
    """The bundled sample clip, ``videos/sample.mkv`` at the repository root.

    Raises
    ------
    FileNotFoundError
        If the clip has not been generated.

    Examples
    --------
    >>> default_source().name  # doctest: +SKIP
    'sample.mkv'
    """
    path = Path(bgmix.__file__).resolve().parents[1] / "videos" / "sample.mkv"
    if not path.is_file():
        raise FileNotFoundError(
            f"no SOURCE given and the sample clip {path} is missing; create it with "
            "`python scripts/make_videos.py` or pass a video, folder or glob pattern")
    return path


# ---------------------------------------------------------------------------
# model options, generated from the constructor
# ---------------------------------------------------------------------------
def _parameter_docs() -> dict[str, str]:
    """Descriptions of the numpydoc ``Parameters`` section, by parameter name."""
    doc = inspect.getdoc(BackgroundMixture) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n\S[^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return {}
    docs: dict[str, str] = {}
    names: list[str] = []
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():
            names = [n.strip() for n in line.split(":", 1)[0].split(",")]
            for name in names:
                docs[name] = ""
        elif line.strip():
            for name in names:
                docs[name] = (docs[name] + " " + line.strip()).strip()
    return docs


def _int_or_auto(text: str) -> int | None:
    if text.lower() in {"auto", "none"}:
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def _float_or_none(text: str) -> float | None:
    if text.lower() in {"auto", "none"}:
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def _converter(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """argparse ``type`` (or action) for a parameter's annotation."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = origin in (typing.Union, types.UnionType) and len(args) < len(typing.get_args(annotation))
    if optional and len(args) == 1:
        annotation = args[0]
        if annotation is int:
            return _int_or_auto, {"metavar": "INT|auto"}
        if annotation is float:
            return _float_or_none, {"metavar": "FLOAT|auto"}
    if annotation is bool:
        return None, {"action": argparse.BooleanOptionalAction}
    if annotation is int:
        return int, {"metavar": "INT"}
    if annotation is float:
        return float, {"metavar": "FLOAT"}
    if typing.get_origin(annotation) is typing.Literal:
        return None, {"choices": list(typing.get_args(annotation))}
    return str, {}


def model_options() -> list[tuple[str, str]]:
    """``(parameter name, option)`` pairs for every BackgroundMixture parameter.

    Examples
    --------
    >>> dict(model_options())["var_threshold"]
    '--var-threshold'
    """
    return [(name, "--" + name.replace("_", "-")) for name in BackgroundMixture().get_params()]


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "model parameters", "BackgroundMixture constructor parameters; unset ones keep their defaults")
    defaults = BackgroundMixture().get_params()
    hints = typing.get_type_hints(BackgroundMixture.__init__)
    docs = _parameter_docs()
    for name, option in model_options():
        convert, extra = _converter(hints.get(name, str))
        default = defaults[name]
        shown = "auto" if default is None else default
        help_text = docs.get(name, "").replace("``", "").replace("%", "%%")
        help_text = re.sub(r"\s*\(?default[^)]*\)?\.?$", "", help_text)  # we print our own
        help_text = f"{help_text} (default: {shown})".strip()
        kwargs: dict[str, Any] = {"dest": f"param:{name}", "default": None, "help": help_text}
        if convert is not None:
            kwargs["type"] = convert
        kwargs.update(extra)
        group.add_argument(option, **kwargs)


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    return {key.split(":", 1)[1]: value for key, value in vars(args).items()
            if key.startswith("param:") and value is not None}


# ---------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------
def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _components(text: str) -> int | str:
    if text.strip().lower() == "bic":
        return "bic"
    return _positive_int(text)


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


# Matroska by default: a killed run (SIGKILL, power loss) leaves a readable
# .part.mkv up to the last flushed block, where an MP4 without its index is lost.
DEFAULT_OUTPUT_NAMES = {"masks": "masks.mkv", "overlay": "overlay.mkv",
                        "background": "background.mkv", "mot": "det.txt",
                        "jsonl": "blobs.jsonl", "csv": "blobs.csv",
                        "probability": "probability.mkv", "outliers": "outliers.mkv"}
"""Names of the outputs asked for without a path (inside OUTDIR, or each batch video's folder)."""

_OUTPUT_SUFFIXES = {"mot": (".txt",), "jsonl": (".jsonl", ".ndjson"), "csv": (".csv",),
                    "overlay": (".mp4", ".avi", ".mkv"), "background": (".mp4", ".avi", ".mkv")}

_OUTPUT_HELP = {
    "masks": "masks: PATH.mkv (FFV1, lossless) or a folder of PNGs bin000001.png ...",
    "overlay": "frames with the mask tinted (foreground red, shadow blue) and blob boxes: "
               ".mp4, .avi or .mkv",
    "background": "the model's background image: .mp4, .avi or .mkv (see --background-every)",
    "mot": "MOT Challenge det.txt: frame,-1,left,top,width,height,conf,-1,-1,-1 (1-based)",
    "jsonl": "JSON lines, one object per frame with its boxes, areas, centroids, confidences",
    "csv": "CSV, one row per blob",
    "probability": "the foreground probability as grey 0-255 (round(255 p)): PATH.mkv (FFV1) "
                   "or a folder of PNGs",
    "outliers": "255 where the log-likelihood under the background is below "
                "--outlier-threshold: PATH.mkv or a folder of PNGs",
}


def _add_output_options(parser: argparse.ArgumentParser, *, batch: bool) -> None:
    where = "in each video's folder" if batch else "in OUTDIR"
    metavar = "NAME" if batch else "PATH"
    group = parser.add_argument_group(
        "outputs", "without a value, an output gets its default name " + where)
    for name, default in DEFAULT_OUTPUT_NAMES.items():
        if name == "masks":
            shown = "masks.mkv, or masks/ with --format png"
        else:
            shown = default
        group.add_argument(f"--{name}", nargs="?", const=True, default=None, metavar=metavar,
                           help=f"{_OUTPUT_HELP[name]} (default name: {shown})".replace("%", "%%"))
    group.add_argument("--background-every", type=_positive_int, metavar="N",
                       help="write the background image every N frames (default: 1)")
    group.add_argument("--outlier-threshold", type=_finite_float, metavar="LL",
                       help="log-likelihood under which --outliers marks a pixel (model units: "
                            "e.g. -20; see BackgroundMixture.score_samples)")


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", metavar="NAME",
                        help="start from a named parameter set (bgmix.presets; model options "
                             "and --config override it)")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="read options from a TOML file: keys are model parameter names "
                             "and long options with _ for - (command-line flags win)")
    parser.add_argument("--bootstrap", type=_positive_int, metavar="N",
                        help="fit the model by batch EM on the first N frames (N >= 2), then "
                             "classify every frame online (the first masks wait for the fit)")
    parser.add_argument("--bootstrap-from", metavar="CLIP",
                        help="with --bootstrap N: fit on the first N frames of CLIP (the empty "
                             "scene) instead")
    parser.add_argument("--bootstrap-components", type=_components, metavar="K|bic",
                        help="with --bootstrap N: components fitted per pixel, 1..n_components, "
                             "or 'bic' to choose per pixel (default: n_components)")
    parser.add_argument("--debug", action="store_true", default=None,
                        help="show the Python traceback of an unexpected error")
    clean = parser.add_argument_group(
        "mask clean-up", "applied to every mask before outputs and blobs (bgmix.postprocess)")
    clean.add_argument("--median", type=_count, metavar="K",
                       help="median filter of odd size K (0 = off)")
    clean.add_argument("--open", type=_count, metavar="K", dest="opening",
                       help="morphological opening, elliptical K x K (removes specks)")
    clean.add_argument("--close", type=_count, metavar="K", dest="closing",
                       help="morphological closing, elliptical K x K (bridges gaps)")
    clean.add_argument("--fill-holes", action=argparse.BooleanOptionalAction, default=None,
                       help="fill background enclosed by foreground")
    clean.add_argument("--min-area", type=_count, metavar="N",
                       help="remove foreground components (and blobs) smaller than N pixels")
    clean.add_argument("--shadows", choices=("keep", "fold"),
                       help="keep shadows as 127, or fold them into background (0)")
    _add_model_options(parser)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


# ---------------------------------------------------------------------------
# --config FILE.toml
# ---------------------------------------------------------------------------
def _config_key(action: argparse.Action) -> str | None:
    longs = [o for o in action.option_strings if o.startswith("--") and not o.startswith("--no-")]
    return longs[0][2:].replace("-", "_") if longs else None


def _config_value(action: argparse.Action, key: str, value: Any, where: str) -> Any:
    def bad(expected: str) -> ValueError:
        return ValueError(f"{where}: {key} must be {expected}, got {value!r}")

    if isinstance(value, (dict, list)):
        raise bad("a single value")
    if action.nargs == "?" and action.const is True:  # an output
        if value is True or (isinstance(value, str) and value):
            return value
        if value is False:
            return None
        raise bad("a path or true")
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(value, bool):
        raise bad("a number or a string" if action.type is not None else "a string")
    converted: Any = value
    if action.type is not None:
        try:
            converted = action.type(str(value))
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ValueError(f"{where}: {key}: {exc}") from None
    if action.choices is not None and converted not in action.choices:
        raise bad("one of " + ", ".join(map(str, action.choices)))
    return converted


def read_config(path: str | os.PathLike[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Options from a TOML file, as ``{argparse dest: value}`` for ``parser``.

    Keys are the long options of ``parser`` with ``_`` for ``-``
    (``var_threshold``, ``max_frames``, ``mot``, ``fill_holes``); booleans
    are ``true``/``false``; an output is a path or ``true`` for its default
    name. An unknown key or a bad value raises a ValueError naming the key
    and the file.

    Examples
    --------
    >>> import tempfile
    >>> config = Path(tempfile.mkdtemp()) / "settings.toml"
    >>> _ = config.write_text("history = 300\\nmot = true\\ndetect_shadows = false\\n")
    >>> run = _subparser(build_parser(), "run")
    >>> sorted(read_config(config, run).items())
    [('mot', True), ('param:detect_shadows', False), ('param:history', 300)]
    >>> _ = config.write_text("histroy = 300\\n")
    >>> read_config(config, run)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...settings.toml: unknown key 'histroy' (known keys: ...)
    """
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    actions = {}
    for action in parser._actions:
        key = _config_key(action)
        if key is not None and key not in {"help", "config", "version"}:
            actions[key] = action
    values: dict[str, Any] = {}
    for key, value in document.items():
        action = actions.get(key)
        if action is None:
            raise ValueError(f"{path}: unknown key {key!r} (known keys: "
                             f"{', '.join(sorted(actions))})")
        values[action.dest] = _config_value(action, key, value, str(path))
    return values


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)  # pragma: no cover


def _apply_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Fill options not given on the command line from ``--config``."""
    if getattr(args, "config", None) is None:
        return
    for dest, value in read_config(args.config, parser).items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)


def build_parser() -> argparse.ArgumentParser:
    """The ``bgmix`` argument parser (``run``, ``eval`` and ``info`` subcommands).

    Examples
    --------
    >>> args = build_parser().parse_args(["run", "clip.mp4", "--history", "200"])
    >>> args.source, vars(args)["param:history"]
    ('clip.mp4', 200)
    """
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="bgmix", formatter_class=formatter,
        description="Background subtraction with a per-pixel online Gaussian mixture (Numba).",
        epilog=_EXAMPLES)
    parser.add_argument("--version", action="version", version=f"bgmix {bgmix.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", formatter_class=formatter, epilog=_RUN_EXAMPLES,
        help="masks, overlay, background and detections of a video, stream, folder or glob",
        description=(
            "Run the background model over SOURCE and write what is asked for: masks (0 "
            "background, 127 shadow,\n255 foreground) as a lossless FFV1 video or CDnet-named "
            "PNGs, an overlay video, a background\nvideo, MOT det.txt, JSON lines, CSV. With no "
            "output option: OUTDIR/masks.mkv.\nEvery output is written under a temporary name "
            "and renamed when complete; Ctrl-C or SIGTERM stops\nearly and keeps every frame "
            "written so far."))
    run.add_argument("source", nargs="?", metavar="SOURCE",
                     help="video file, stream URL (rtsp://, http://), image folder (e.g. a CDnet "
                          "input/ folder) or quoted glob pattern; default: the bundled sample "
                          "clip videos/sample.mkv")
    run.add_argument("-o", "--output", metavar="OUTDIR", type=Path,
                     help="folder for outputs given without a path (default: "
                          "./bgmix-out/<source name>/)")
    run.add_argument("--format", choices=("mkv", "png"),
                     help="the default masks: OUTDIR/masks.mkv (FFV1, lossless) or "
                          "OUTDIR/masks/bin%%06d.png (default: mkv)")
    _add_output_options(run, batch=False)
    run.add_argument("--max-frames", type=_positive_int, metavar="N",
                     help="stop after N frames")
    run.add_argument("--preview", action="store_true", default=None,
                     help="show the overlay in a window (q or Esc stops); without a display it "
                          "says so once and goes on")
    run.add_argument("-q", "--quiet", action="store_true", default=None,
                     help="no progress bar and no summary")
    live = run.add_argument_group(
        "live sources", "a camera index or a stream URL (rtsp://, http://): newest frame first, "
        "stale frames dropped, a lost stream reconnected with doubling delays")
    live.add_argument("--reconnect-attempts", type=_count, metavar="N",
                      help="give up after N failed reconnections in a row (default: 10)")
    live.add_argument("--reconnect-delay", type=_positive_float, metavar="S",
                      help="first wait before reconnecting, doubled up to 8 s (default: 0.5)")
    live.add_argument("--read-timeout", type=_positive_float, metavar="S",
                      help="a stream silent this long is lost (default: 5)")
    live.add_argument("--no-live", action="store_true", default=None,
                      help="read a URL as a file: every frame in order, no dropping")
    _add_common_options(run)
    run.set_defaults(func=_cmd_run)

    batch = commands.add_parser(
        "batch", formatter_class=formatter, epilog=_BATCH_EXAMPLES,
        usage="bgmix batch PATHS_OR_GLOBS... --out DIR [--jobs N] [--force] "
              "[--scheduler process|dask] [outputs] [options]",
        help="many videos, one output folder each, in parallel; skips videos already done",
        description=(
            "Run `bgmix run` on every video of PATHS_OR_GLOBS (files, folders of videos, image "
            "folders, quoted\nglob patterns with **), each into DIR/<name>/, in worker "
            "processes."))
    batch.add_argument("inputs", nargs="+", metavar="PATHS_OR_GLOBS",
                       help="video files, folders (their videos, or one image sequence) or "
                            "quoted glob patterns")
    batch.add_argument("--out", type=Path, metavar="DIR", default=None,
                       help="batch folder (required): DIR/<name>/ per video, DIR/summary.json")
    batch.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                       help="videos at a time, each in its own process (default: 1); each "
                            "model gets cpus/N kernel threads unless --n-threads is given")
    batch.add_argument("--force", action="store_true", default=None,
                       help="redo videos that are already done")
    batch.add_argument("--scheduler", choices=("process", "dask"),
                       help="local worker processes (default) or Dask (dask.distributed: a "
                            "local cluster of --jobs worker processes, or --dask-address)")
    batch.add_argument("--dask-address", metavar="ADDR",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.2:8786")
    batch.add_argument("--format", choices=("mkv", "png"),
                       help="the default masks: masks.mkv or masks/bin%%06d.png (default: mkv)")
    _add_output_options(batch, batch=True)
    batch.add_argument("--max-frames", type=_positive_int, metavar="N",
                       help="stop each video after N frames")
    batch.add_argument("-q", "--quiet", action="store_true", default=None,
                       help="no progress bar and no table")
    _add_common_options(batch)
    batch.set_defaults(func=_cmd_batch)

    evaluate = commands.add_parser(
        "eval", formatter_class=formatter, epilog=_EVAL_EXAMPLES, usage=_EVAL_USAGE,
        help="CDnet scores (F-measure, precision, recall, PWC) and ms/frame of bgmix and "
             "OpenCV's subtractors",
        description=_EVAL_DESCRIPTION)
    evaluate.add_argument("first", metavar="SEQUENCE_DIR|PRED_DIR",
                          help="a CDnet sequence folder (with input/ and groundtruth/), or a "
                               "folder of saved masks bin%%06d.png")
    evaluate.add_argument("second", nargs="?", metavar="GT_DIR",
                          help="with PRED_DIR: the CDnet sequence folder to score it against")
    evaluate.add_argument("--preset", metavar="P",
                          help="start from the bgmix preset P (model options override its values)")
    evaluate.add_argument("--compare", metavar="M1,M2,...",
                          help="also run these methods on the same frames (comma-separated; see "
                               "below; 'all' for every OpenCV method available)")
    evaluate.add_argument("--threads", type=_positive_int, metavar="N",
                          help="threads for every method: cv2.setNumThreads(N) and bgmix's "
                               "n_threads unless --n-threads is given (default: all cores)")
    evaluate.add_argument("--json", nargs="?", const="-", metavar="FILE",
                          help="write the results as JSON to FILE, or to stdout (instead of the "
                               "table) when FILE is omitted or '-'")
    evaluate.add_argument("-q", "--quiet", action="store_true",
                          help="no progress bar")
    _add_model_options(evaluate)
    evaluate.set_defaults(func=_cmd_eval)

    info = commands.add_parser(
        "info", help="versions, Numba threading layer and cache, CPU count",
        formatter_class=formatter,
        epilog="Examples:\n  bgmix info                  # paste this into a bug report\n"
               "  NUMBA_NUM_THREADS=2 bgmix info   # what a run limited to 2 threads uses",
        description="Print versions of bgmix and its dependencies, the Numba threading "
                    "layer, the Numba cache location and the CPU count.")
    info.set_defaults(func=_cmd_info)
    return parser


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "source"


def display_available() -> tuple[bool, str]:
    """Whether ``cv2.imshow`` can open a window here, and why not.

    Linux without ``$DISPLAY`` or ``$WAYLAND_DISPLAY`` has no display; an
    OpenCV built without a GUI (``opencv-python-headless``) cannot show one
    either (its ``namedWindow`` raises ``cv2.error``).

    Examples
    --------
    >>> ok, reason = display_available()
    >>> isinstance(ok, bool) and isinstance(reason, str)
    True
    """
    import cv2

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display ($DISPLAY and $WAYLAND_DISPLAY are unset)"
    try:
        cv2.namedWindow("bgmix", cv2.WINDOW_NORMAL)
    except cv2.error as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cv2.error"
        return False, f"this OpenCV cannot open a window ({first})"
    return True, ""


def _postprocess(args: argparse.Namespace) -> Any:
    from bgmix.postprocess import Postprocess

    settings = {"median": args.median, "opening": args.opening, "closing": args.closing,
                "fill_holes": args.fill_holes, "min_area": args.min_area,
                "shadows": {"fold": "background"}.get(args.shadows, args.shadows)}
    given = {k: v for k, v in settings.items() if v is not None}
    if not given:
        return None
    settings = Postprocess(**given)
    return None if settings.is_identity else settings


def _model_settings(args: argparse.Namespace) -> dict[str, Any]:
    from bgmix.presets import preset_params

    params = preset_params(args.preset) if args.preset is not None else {}
    params.update(_model_params(args))
    return params


def _output_paths(args: argparse.Namespace, folder: Path | None, *, batch: bool) -> dict[str, str]:
    """Output name -> path (run: as given, or the default name in ``folder``;
    batch: a name inside each video's folder)."""
    fmt = args.format or "mkv"
    names = dict(DEFAULT_OUTPUT_NAMES, masks="masks.mkv" if fmt == "mkv" else "masks")
    asked = {name: getattr(args, name) for name in DEFAULT_OUTPUT_NAMES
             if getattr(args, name) is not None}
    if (args.outlier_threshold is None) != ("outliers" not in asked):
        raise ValueError("--outliers and --outlier-threshold LL go together")
    if not asked:
        asked = {"masks": True}
    elif args.format is not None and "masks" not in asked:
        raise ValueError("--format chooses the default masks; add --masks (or give --masks "
                         "PATH) to write masks alongside the other outputs")
    paths = {}
    for name, value in asked.items():
        if value is True:
            value = names[name] if batch or folder is None else str(folder / names[name])
        elif batch and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError(f"--{name} {value}: in a batch, outputs are names inside each "
                             "video's folder (no absolute path, no '..')")
        suffix = Path(value).suffix.lower()
        allowed = _OUTPUT_SUFFIXES.get(name)
        if allowed is not None and suffix not in allowed:
            raise ValueError(f"--{name} {value}: the name must end in {' or '.join(allowed)}")
        if name in ("masks", "probability", "outliers") and suffix not in ("", ".mkv"):
            kind = "mask" if name == "masks" else "grey"
            raise ValueError(f"--{name} {value}: a {kind} video must be .mkv (lossless FFV1); "
                             "give a name without a suffix for a folder of PNGs")
        paths[name] = value
    seen: dict[str, str] = {}
    for name, value in paths.items():
        key = os.path.realpath(value)
        if key in seen:
            raise ValueError(f"--{seen[key]} and --{name} both write {value}")
        seen[key] = name
    return paths


def _check_not_source(paths: dict[str, str], source: Any) -> None:
    """Refuse an output that would replace the source (e.g. ``--overlay clip.mp4``
    where clip.mp4 was meant as SOURCE)."""
    if not isinstance(source, (str, os.PathLike)) or not os.path.exists(source):
        return
    for name, value in paths.items():
        if os.path.exists(value) and os.path.samefile(value, source):
            raise ValueError(f"--{name} {value} is the source itself; put SOURCE first "
                             f"(bgmix run SOURCE --{name}) or give --{name} a path")


def _live_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keywords of :func:`bgmix.io.open_source` from the live-source flags."""
    options: dict[str, Any] = {}
    if args.no_live:
        options["live"] = False
    for name in ("reconnect_attempts", "reconnect_delay", "read_timeout"):
        if getattr(args, name) is not None:
            if args.no_live:
                raise ValueError(f"--{name.replace('_', '-')} is for live sources; --no-live "
                                 "reads the URL as a file")
            options[name] = getattr(args, name)
    return options


def _run_options(args: argparse.Namespace, outputs: dict[str, str]) -> Any:
    from bgmix.batch import RunOptions

    for flag in ("bootstrap_from", "bootstrap_components"):
        if getattr(args, flag) is not None and args.bootstrap is None:
            raise ValueError(f"--{flag.replace('_', '-')} needs --bootstrap N (how many frames "
                             "to fit)")
    if args.bootstrap is not None and args.bootstrap < 2:
        raise ValueError(f"--bootstrap must be >= 2 (frames to fit), got {args.bootstrap}")
    params = _model_settings(args)
    BackgroundMixture(**params)._validated()  # bad parameters fail before any file is opened
    return RunOptions(model_params=params, postprocess=_postprocess(args),
                      background_every=args.background_every or 1,
                      outlier_threshold=args.outlier_threshold,
                      max_frames=args.max_frames, bootstrap=args.bootstrap,
                      bootstrap_from=args.bootstrap_from,
                      bootstrap_options=({} if args.bootstrap_components is None
                                         else {"n_components": args.bootstrap_components}),
                      **outputs)


class _Progress:
    """tqdm on stderr (a TTY only): rate and ETA when the frame count is
    known, live statistics (fps, dropped frames, latency) for streams."""

    def __init__(self, enabled: bool, max_frames: int | None, notices: bool = False) -> None:
        self.enabled = enabled
        self.max_frames = max_frames
        self.notices = notices  # one-line notices on stderr when there is no bar
        self.bar: Any = None
        self.name = ""
        self.compile_shown = False
        self.last_stats = 0.0

    def start(self, processing: Any) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        source = processing.source
        total = source.n_frames
        if self.max_frames is not None:
            total = self.max_frames if total is None else min(total, self.max_frames)
        self.live = total is None
        self.name = str(source.name)[:40]
        self.bar = tqdm(total=total, unit="frame", desc=self.name,
                        dynamic_ncols=True, leave=False)

    def compiling(self) -> None:
        """The first frame waits for Numba: say so instead of a bar frozen at 0."""
        from bgmix._compile_notice import COMPILING_MESSAGE

        if self.bar is not None:
            self.bar.set_description(COMPILING_MESSAGE, refresh=True)
            self.compile_shown = True
        elif self.notices:
            print(f"bgmix: {COMPILING_MESSAGE}...", file=sys.stderr, flush=True)

    def frame(self, result: Any, processing: Any) -> None:
        if self.bar is None:
            return
        if self.compile_shown:
            self.compile_shown = False
            self.bar.set_description(self.name, refresh=False)
        self.bar.update()
        now = time.monotonic()
        if self.live and now - self.last_stats >= 0.5:
            self.last_stats = now
            stats = processing.stats
            latency = getattr(stats, "mean_latency_s", 0.0) * 1000
            self.bar.set_postfix_str(
                f"{getattr(stats, 'fps', 0.0):.1f} fps, dropped "
                f"{getattr(stats, 'frames_dropped', 0)}, latency {latency:.0f} ms", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Preview:
    """The overlay in a window; q or Esc stops the run (as the end of the source would)."""

    def __init__(self) -> None:
        import cv2

        self.cv2 = cv2

    def frame(self, result: Any, processing: Any) -> bool:
        from bgmix.sinks import render_overlay

        self.cv2.imshow("bgmix", render_overlay(result.frame, result.mask, result.blobs))
        key = self.cv2.waitKey(1) & 0xFF
        return key in (ord("q"), 27)

    def close(self) -> None:
        try:
            self.cv2.destroyWindow("bgmix")
            self.cv2.waitKey(1)
        except self.cv2.error:
            pass


def _cmd_run(args: argparse.Namespace) -> int:
    from bgmix._compile_notice import notify_first_compile
    from bgmix.batch import run_video
    from bgmix.io import open_source

    quiet = bool(args.quiet)
    source_arg: Any = args.source if args.source is not None else default_source()
    if args.output is not None:
        outputs = _output_paths(args, args.output, batch=False)
    else:
        outputs = None  # the default folder is named after the source: known once it is open
        _output_paths(args, Path("."), batch=False)  # check the flags before opening anything
    options = _run_options(args, {})
    preview = None
    if args.preview:
        available, reason = display_available()
        if available:
            preview = _Preview()
        else:
            print(f"bgmix: {reason}: --preview ignored", file=sys.stderr)

    source = open_source(source_arg, **_live_options(args))
    if outputs is None:
        outputs = _output_paths(args, Path("bgmix-out") / _safe_name(source.name), batch=False)
    _check_not_source(outputs, source_arg)
    options = options.replace(**outputs)
    progress = _Progress(not quiet and sys.stderr.isatty(), args.max_frames, notices=not quiet)

    def on_frame(result: Any, processing: Any) -> bool:
        progress.frame(result, processing)
        return preview.frame(result, processing) if preview is not None else False

    try:
        with notify_first_compile(progress.compiling):
            report = run_video(source, options, on_frame=on_frame, on_start=progress.start)
    finally:
        progress.close()
        if preview is not None:
            preview.close()
        source.close()

    for warning in report.warnings:
        print(f"bgmix: warning: {warning}", file=sys.stderr)
    if report.status == "failed":
        print(f"bgmix: error: {report.error}", file=sys.stderr)
        return report.exit_code
    if report.status == "interrupted":
        name = "SIGINT" if report.exit_code == 130 else (
            "SIGTERM" if report.exit_code == 143 else f"signal {report.exit_code - 128}")
        kept = (f"outputs closed, keeping the first {report.frames} frames" if report.frames
                else "no frame was written")
        print(f"bgmix: interrupted by {name}; {kept}", file=sys.stderr)
    if not quiet and report.frames:
        print(f"frames      {report.frames}")
        line = f"fps         {report.fps:.1f} (whole loop: decode, model, outputs)"
        if report.frames > 1 and report.elapsed_s > report.first_frame_s:
            steady = (report.frames - 1) / (report.elapsed_s - report.first_frame_s)
            line += (f"; {steady:.1f} after the first frame, which took "
                     f"{report.first_frame_s:.2f} s (loading the compiled kernel)")
        print(line)
        dropped = report.stats.get("frames_dropped", 0)
        if dropped:
            print(f"dropped     {dropped} (the model was slower than the stream)")
        print(f"foreground  {report.foreground:.4f} (mean fraction of pixels = 255)")
        for name, path in report.outputs.items():
            print(f"{'output' if name == 'masks' else name:<11} {path}")
    return report.exit_code


def _batch_table(rows: list[dict[str, Any]]) -> str:
    header = ("video", "frames", "fps", "status")
    lines = [header]
    for row in rows:
        status = row["status"]
        if row.get("error"):
            status += f": {row['error']}"
        fps = f"{row['fps']:.1f}" if row.get("fps") else "-"
        lines.append((row["name"], str(row.get("frames", 0)), fps, status))
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
                     for a, b, c, d in lines)


def _cmd_batch(args: argparse.Namespace) -> int:
    from bgmix.batch import expand_inputs, run_batch

    if args.out is None:
        raise ValueError("bgmix batch needs --out DIR (the folder for the results)")
    outputs = _output_paths(args, None, batch=True)
    options = _run_options(args, outputs)
    items = expand_inputs(args.inputs)
    if all(item.error is not None for item in items):
        raise FileNotFoundError("; ".join(item.error for item in items if item.error))
    quiet = bool(args.quiet)
    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit="video", desc="batch", dynamic_ncols=True, leave=False)

    def on_row(row: dict[str, Any]) -> None:
        if bar is not None:
            bar.update()
        if row["status"] == "failed":
            message = f"bgmix: failed {row['name']} ({row['source']}): {row['error']}"
            (bar.write if bar is not None else print)(message, file=sys.stderr)
        elif not quiet and row["status"] != "skipped":
            text = f"bgmix: {row['status']} {row['name']}: {row['frames']} frames"
            if bar is not None:
                bar.write(text, file=sys.stderr)
            else:
                print(text, file=sys.stderr)
        for warning in row.get("warnings") or ():
            print(f"bgmix: warning: {row['name']}: {warning}", file=sys.stderr)

    try:
        rows, signum = run_batch(items, args.out, options, jobs=args.jobs or 1,
                                 force=bool(args.force), scheduler=args.scheduler or "process",
                                 dask_address=args.dask_address, on_row=on_row)
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        print(_batch_table(rows))
        print(f"summary     {Path(args.out) / 'summary.json'}")
    if signum is not None:
        done = sum(row["status"] in ("done", "skipped") for row in rows)
        print(f"bgmix: batch interrupted by {signal.Signals(signum).name}; {done} of {len(rows)} "
              "videos done (run the same command again for the rest)", file=sys.stderr)
        return 128 + signum
    return EXIT_FAILURE if any(row["status"] == "failed" for row in rows) else EXIT_OK


def _format_figure(value: float | None, digits: int) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _results_table(results: list[Any]) -> str:
    """The aligned table of :class:`~bgmix.evaluation.MethodResult` rows."""
    header = ("method", "F", "precision", "recall", "PWC", "ms/frame")
    rows = [header]
    for r in results:
        rows.append((r.method, _format_figure(r.f_measure, 4), _format_figure(r.precision, 4),
                     _format_figure(r.recall, 4), _format_figure(r.pwc, 3),
                     _format_figure(r.ms_per_frame_median, 2)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _compare_names(text: str | None) -> list[str]:
    from bgmix.evaluation import available_methods

    if text is None:
        return []
    names: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name.lower() == "all":
            names.extend(n for n in available_methods() if n != "bgmix")
        else:
            names.append(name)
    if not names:
        raise ValueError(f"--compare needs method names, got {text!r}")
    return list(dict.fromkeys(names))  # drop repeats, keep the order


def _changed_params(params: dict[str, Any] | None) -> str:
    if not params:
        return ""
    defaults = BackgroundMixture().get_params()
    changed = [f"{k}={v!r}" for k, v in params.items() if defaults.get(k, object()) != v]
    return ", ".join(changed)


def _cmd_eval(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from bgmix import evaluation as ev

    first = Path(args.first)
    if not first.exists():
        raise FileNotFoundError(f"no such folder: {first}")
    if not first.is_dir():
        raise ValueError(f"{first} is not a folder; give a CDnet sequence folder or a folder "
                         "of saved masks")
    model_params = _model_params(args)
    uses_model = (bool(model_params) or args.preset is not None or args.compare is not None
                  or args.threads is not None)
    skipped: list[dict[str, str]] = []
    header: list[str] = []

    if ev.is_sequence_folder(first):
        if args.second is not None:
            raise ValueError(f"{first} is a sequence folder (input/ and groundtruth/), so it "
                             "takes no second folder; to score saved masks: "
                             "bgmix eval PRED_DIR GT_DIR")
        params = ev.preset_params(args.preset) if args.preset is not None else {}
        params.update(model_params)
        name = "bgmix" if args.preset is None else f"bgmix:{args.preset}"
        methods = [ev.make_method(params, n_threads=args.threads, name=name)]
        for spec in _compare_names(args.compare):
            try:
                methods.append(ev.make_method(spec, n_threads=args.threads))
            except ev.UnavailableMethodError as exc:
                print(f"bgmix: skipping {spec}: {_one_line(exc)}", file=sys.stderr)
                skipped.append({"method": spec, "reason": _one_line(exc)})
        n_inputs = len(ev.find_input_frames(first))  # fails early on a bad input/ folder
        show_progress = not args.quiet and sys.stderr.isatty()
        with tqdm(total=n_inputs, unit="frame", desc=first.resolve().name, leave=False,
                  disable=not show_progress, dynamic_ncols=True) as progress:
            results = ev.evaluate_methods_on_sequence(
                methods, first, n_threads=args.threads,
                progress=lambda n: progress.update())
        r0 = results[0]
        roi = r0.scores.temporal_roi
        scored = (f"frames {roi[0]}-{roi[1]} scored" if roi is not None
                  else f"{r0.n_scored_frames} frames scored")
        header.append(f"{r0.sequence}: {r0.n_frames} frames run, {scored} ({first})")
        changed = _changed_params(r0.params)
        if changed:
            header.append(f"{r0.method} parameters: {changed}")
        threads = "all cores" if args.threads is None else str(args.threads)
        footer = f"ms/frame: median time of each method's apply alone; threads: {threads}"
    elif ev.is_mask_folder(first):
        if args.second is None:
            raise ValueError(f"{first} holds saved masks; name the CDnet sequence folder to "
                             "score them against: bgmix eval PRED_DIR GT_DIR")
        if uses_model:
            raise ValueError("--preset, --compare, --threads and model options need a sequence "
                             "folder (with input/ and groundtruth/), not saved masks")
        second = Path(args.second)
        if not second.is_dir():
            raise FileNotFoundError(f"no such folder: {second}")
        results = [ev.evaluate_masks(first, second)]
        r0 = results[0]
        header.append(f"{r0.sequence}: {r0.n_scored_frames} frames scored, masks from {first}")
        footer = ""
    else:
        if (first / "input").is_dir() and not (first / "groundtruth").is_dir():
            raise FileNotFoundError(f"{first} has input/ but no groundtruth/ folder: a CDnet "
                                    "sequence folder needs both")
        raise ValueError(f"{first} is neither a CDnet sequence folder (with input/ and "
                         "groundtruth/) nor a folder of saved masks (bin000001.png ...)")

    document = {
        "bgmix_version": bgmix.__version__,
        "opencv_version": cv2.__version__,
        "sequence": results[0].sequence,
        "path": str(first if args.second is None else args.second),
        "predictions": None if args.second is None else str(first),
        "n_threads": args.threads,
        "skipped": skipped,
        "results": [r.to_dict() for r in results],
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    if args.json == "-":
        sys.stdout.write(text)
        return EXIT_OK
    if args.json is not None:
        Path(args.json).write_text(text)
    for line in header:
        print(line)
    print(_results_table(results))
    if footer:
        print(footer)
    if args.json is not None:
        print(f"json        {args.json}")
    return EXIT_OK


def _threading_layer() -> str:
    import numba

    try:
        # Only known once a parallel kernel has run: run a tiny one.
        BackgroundMixture().apply(np.zeros((8, 8, 3), np.uint8))
        return str(numba.threading_layer())
    except Exception as exc:  # pragma: no cover - depends on the installation
        return f"unknown ({type(exc).__name__}: {exc}); configured: {numba.config.THREADING_LAYER}"


def _cache_location() -> str:
    import numba

    import bgmix.kernels

    if numba.config.CACHE_DIR:
        return f"{numba.config.CACHE_DIR} (NUMBA_CACHE_DIR)"
    folder = Path(bgmix.kernels.__file__).resolve().parent / "__pycache__"
    n_index = len(list(folder.glob("*.nbi"))) if folder.is_dir() else 0
    return (f"{folder} ({n_index} index files; NUMBA_CACHE_DIR unset: next to the kernels, "
            "or the user cache folder if that is not writable)")


def _cmd_info(args: argparse.Namespace) -> int:
    import cv2
    import numba
    import tqdm

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count() or 0
    try:
        sample = str(default_source())
    except FileNotFoundError:
        sample = "missing (run scripts/make_videos.py)"
    rows = [
        ("bgmix", f"{bgmix.__version__} ({Path(bgmix.__file__).resolve().parent})"),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("opencv", cv2.__version__),
        ("tqdm", tqdm.__version__),
        ("threading layer", _threading_layer()),
        ("numba threads", f"{numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS)"),
        ("numba cache", _cache_location()),
        ("cpu count", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("sample clip", sample),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bgmix`` command line; return the exit status.

    0 success; 1 a runtime failure (an output that cannot be written: disk
    full, no permission; a missing encoder; a batch with a failed video);
    2 bad arguments or input (a one-line ``bgmix: error: ...`` on stderr, no
    traceback); 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM, after
    closing every output with the frames written so far. ``--debug`` shows
    the traceback of an unexpected error (exit 1 without it).

    Examples
    --------
    >>> main(["run", "no/such/clip.mkv", "--quiet"])  # the message goes to stderr
    2
    """
    from bgmix.batch import OutputError, StopRequested, handle_signals

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    debug = bool(getattr(args, "debug", False))

    # FFmpeg and OpenCV log to stderr on their own (e.g. when a file is not a
    # video); our errors say it in one line. FFmpeg reads this when first used.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    log_level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    guarded = args.command in ("run", "batch")
    # On the real command line, once stopping, a repeated Ctrl-C must not kill
    # the process between closing the outputs and exiting.
    signals = (handle_signals(ignore_after_stop=argv is None) if guarded
               else contextlib.nullcontext())
    try:
        with signals:
            if guarded:
                _apply_config(args, _subparser(parser, args.command))
            return int(args.func(args))
    except StopRequested as stop:
        print(f"bgmix: interrupted by {signal.Signals(stop.signum).name}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print("bgmix: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OutputError, RuntimeError, ConnectionError) as exc:
        print(f"bgmix: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except (ValueError, TypeError, OSError) as exc:
        print(f"bgmix: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            raise
        print(f"bgmix: error: unexpected {type(exc).__name__}: {_one_line(exc)} (run with "
              "--debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        cv2.utils.logging.setLogLevel(log_level)


def _one_line(exc: BaseException) -> str:
    from bgmix.batch import one_line

    return one_line(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
