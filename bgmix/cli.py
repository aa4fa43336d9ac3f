"""The ``bgmix`` command: ``bgmix run`` writes foreground masks, ``bgmix info``
describes the installation.

Every :class:`~bgmix.BackgroundMixture` constructor parameter becomes a
``bgmix run`` option (``n_components`` -> ``--n-components``, booleans as
``--detect-shadows/--no-detect-shadows``), generated from the constructor's
signature and docstring, so new parameters appear without touching this file.
"""

from __future__ import annotations

import argparse
import inspect
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
  bgmix info                                  # versions, threading layer, Numba cache
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
    """The ``bgmix`` argument parser (``run`` and ``info`` subcommands).

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
