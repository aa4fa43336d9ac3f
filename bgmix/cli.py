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
import inspect
import json
import math
import os
import platform
import re
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

__all__ = ["main", "build_parser", "default_source", "model_options"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EXAMPLES = """\
Examples:
  bgmix run                                   # bundled sample clip -> bgmix-out/sample/masks.mkv
  bgmix run traffic.mp4 -o out/ --history 200 --var-threshold 25
  bgmix run cdnet/baseline/highway/input --format png   # -> bgmix-out/highway/masks/bin000001.png ...
  bgmix run "frames/*.jpg" --max-frames 100 --no-detect-shadows
  bgmix eval cdnet/baseline/highway --compare mog2,knn+median   # CDnet F-measure, side by side
  bgmix info                                  # versions, threading layer, Numba cache
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
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
        "run", formatter_class=formatter, epilog=_EXAMPLES,
        help="write foreground masks of a video, image folder or glob pattern",
        description=(
            "Run the background model over SOURCE and write its masks (0 background, "
            "127 shadow, 255 foreground)\nas a lossless FFV1 video (OUTDIR/masks.mkv) or "
            "CDnet-named PNGs (OUTDIR/masks/bin000001.png ...).\nCtrl-C stops early and "
            "keeps the masks written so far."))
    run.add_argument("source", nargs="?", metavar="SOURCE",
                     help="video file, image folder (e.g. a CDnet input/ folder) or quoted glob "
                          "pattern; default: the bundled sample clip videos/sample.mkv")
    run.add_argument("-o", "--output", metavar="OUTDIR", type=Path,
                     help="output folder (default: ./bgmix-out/<source name>/)")
    run.add_argument("--format", choices=("mkv", "png"), default="mkv",
                     help="masks.mkv (FFV1, lossless) or masks/bin%%06d.png (default: mkv)")
    run.add_argument("--max-frames", type=_positive_int, metavar="N",
                     help="stop after N frames")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar and no summary")
    _add_model_options(run)
    run.set_defaults(func=_cmd_run)

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
        description="Print versions of bgmix and its dependencies, the Numba threading "
                    "layer, the Numba cache location and the CPU count.")
    info.set_defaults(func=_cmd_info)
    return parser


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "source"


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bgmix.io import open_mask_sink, open_source

    model = BackgroundMixture(**_model_params(args))
    model._validated()  # bad parameters fail before any file is opened
    source_arg = args.source if args.source is not None else default_source()

    with open_source(source_arg) as source:
        outdir = args.output if args.output is not None else Path("bgmix-out") / _safe_name(source.name)
        out_path = outdir / ("masks.mkv" if args.format == "mkv" else "masks")
        total = source.n_frames
        if args.max_frames is not None:
            total = args.max_frames if total is None else min(total, args.max_frames)
        sink = open_mask_sink(out_path, kind=args.format, fps=source.fps)
        show_progress = not args.quiet and sys.stderr.isatty()
        progress = tqdm(total=total, unit="frame", desc=source.name, disable=not show_progress,
                        dynamic_ncols=True, leave=False)
        n_frames = 0
        foreground = 0.0
        mask: np.ndarray | None = None
        interrupted = False
        first_frame = 0.0
        start = time.perf_counter()
        try:
            for frame in source:
                mask = model.apply(frame, out=mask)
                sink.write(mask)
                foreground += np.count_nonzero(mask == 255) / mask.size
                n_frames += 1
                if n_frames == 1:
                    first_frame = time.perf_counter() - start
                progress.update()
                if args.max_frames is not None and n_frames >= args.max_frames:
                    break
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            sink.abort()
            raise
        finally:
            progress.close()
        elapsed = time.perf_counter() - start
        sink.close()

    if n_frames == 0:
        raise ValueError(f"{source_arg} gave no frames")
    if interrupted:
        print(f"bgmix: interrupted; the masks of the first {n_frames} frames were kept",
              file=sys.stderr)
    if not args.quiet:
        fps = n_frames / elapsed if elapsed > 0 else float("inf")
        print(f"frames      {n_frames}")
        line = f"fps         {fps:.1f} (whole loop: decode, model, write)"
        if n_frames > 1 and elapsed > first_frame:
            steady = (n_frames - 1) / (elapsed - first_frame)
            line += (f"; {steady:.1f} after the first frame, which took {first_frame:.2f} s "
                     "(loading the compiled kernel)")
        print(line)
        print(f"foreground  {foreground / n_frames:.4f} (mean fraction of pixels = 255)")
        print(f"output      {sink.path}")
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


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

    0 success, 1 failure of the environment (e.g. no FFV1 encoder), 2 bad
    arguments or input (a one-line message on stderr, no traceback), 130
    interrupted by Ctrl-C (the masks written so far are kept).

    Examples
    --------
    >>> main(["run", "no/such/clip.mkv", "--quiet"])  # the message goes to stderr
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)

    # FFmpeg and OpenCV log to stderr on their own (e.g. when a file is not a
    # video); our errors say it in one line. FFmpeg reads this when first used.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    log_level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("bgmix: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as exc:
        print(f"bgmix: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:
        print(f"bgmix: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        cv2.utils.logging.setLogLevel(log_level)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
