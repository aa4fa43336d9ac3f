"""The options the commands share: argument types, the model options generated from
the constructor, the outputs, the mask clean-up and bootstrap options.

Every :class:`~bgmix.BackgroundMixture` constructor parameter becomes a
``bgmix run``, ``bgmix batch`` and ``bgmix eval`` option (``n_components`` ->
``--n-components``, booleans as ``--detect-shadows/--no-detect-shadows``),
generated from the constructor's signature and docstring, so new parameters
appear without touching this package.
"""

from __future__ import annotations

import argparse
import inspect
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgmix.model import BackgroundMixture
from bgmix.outputs.frame_outputs import DEFAULT_NAMES as DEFAULT_OUTPUT_NAMES


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


def _or_auto(convert: Callable[[str], Any], expected: str) -> Callable[[str], Any]:
    """An argparse type: ``auto`` (or ``none``) for None, else ``convert(text)``."""
    def parse(text: str) -> Any:
        if text.lower() in {"auto", "none"}:
            return None
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected} or 'auto', got {text!r}") from None
    return parse


_int_or_auto = _or_auto(int, "an integer")
_float_or_none = _or_auto(float, "a number")


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


def add_model_options(parser: argparse.ArgumentParser) -> None:
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


def model_params(args: argparse.Namespace) -> dict[str, Any]:
    return {key.split(":", 1)[1]: value for key, value in vars(args).items()
            if key.startswith("param:") and value is not None}


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def components(text: str) -> int | str:
    if text.strip().lower() == "bic":
        return "bic"
    return positive_int(text)


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _integer(low: int, expected: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``, or an error saying ``expected``."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return convert


positive_int = _integer(1, "a positive integer")
count = _integer(0, "an integer >= 0")


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


def add_output_options(parser: argparse.ArgumentParser, *, batch: bool) -> None:
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
    group.add_argument("--background-every", type=positive_int, metavar="N",
                       help="write the background image every N frames (default: 1)")
    group.add_argument("--outlier-threshold", type=finite_float, metavar="LL",
                       help="log-likelihood under which --outliers marks a pixel (model units: "
                            "e.g. -20; see BackgroundMixture.score_samples)")


EVENT_OUTPUT_NAMES = {"events": "events.csv", "report": "report.html", "clips": "clips"}
"""The event outputs and their default names (in OUTDIR, or in each video's folder)."""


def padding(text: str) -> tuple[float, float]:
    """``PRE`` or ``PRE,POST`` seconds of padding around an event."""
    parts = text.split(",")
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(f"expected PRE or PRE,POST seconds, got {text!r}")
    values = [positive_or_zero_float(part) for part in parts]
    return (values[0], values[-1])


def positive_or_zero_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def add_event_options(parser: argparse.ArgumentParser, *, batch: bool) -> None:
    """Motion events, clips, the report, the watched region and zones (bgmix.events)."""
    where = "in each video's folder" if batch else "in OUTDIR"
    metavar = "NAME" if batch else "PATH"
    group = parser.add_argument_group(
        "motion events", "when something happened; without a value, an output gets its "
        "default name " + where)
    group.add_argument("--events", nargs="?", const=True, default=None, metavar=metavar,
                       help="the motion events as CSV: start and end (frame, seconds), "
                            "duration, peak area, blobs, zones; one more file per zone "
                            "(default name: events.csv)")
    group.add_argument("--report", nargs="?", const=True, default=None, metavar=metavar,
                       help="a self-contained report.html: activity timeline with the "
                            "events, a thumbnail per event, a table (default name: report.html)")
    group.add_argument("--clips", nargs="?", const=True, default=None, metavar=metavar,
                       help="a folder with each event as its own video, padding included "
                            "(video files only; default name: clips)")
    group.add_argument("--clips-overlay", action="store_true", default=None,
                       help="clips show the mask and boxes over the frames")
    group.add_argument("--roi", metavar="MASK.png",
                       help="watch only the pixels where this image is not 0 (masks, blobs, "
                            "exports and events ignore the rest)")
    group.add_argument("--zone", action="append", metavar="NAME=X1,Y1,X2,Y2,...",
                       help="a named polygon (repeatable): events and their CSV say which "
                            "zones they touched, each zone gets its own event list, the "
                            "JSONL and CSV blobs say which zones each blob touches, and MOT "
                            "gets det-NAME.txt per zone")
    group.add_argument("--event-min-area", type=positive_or_zero_float, metavar="FRACTION",
                       help="foreground share of the frame that counts as motion "
                            "(default: 0.002)")
    group.add_argument("--event-min-duration", type=positive_or_zero_float, metavar="SECONDS",
                       help="shorter motion is not an event (default: 0.5)")
    group.add_argument("--event-merge-gap", type=positive_or_zero_float, metavar="SECONDS",
                       help="events closer than this are one (default: 2)")
    group.add_argument("--event-padding", type=padding, metavar="PRE[,POST]",
                       help="seconds kept before and after an event in its clip "
                            "(default: 1.5,2)")
    group.add_argument("--event-warmup", type=count, metavar="FRAMES",
                       help="no event during the model's first frames (default: 30)")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", metavar="NAME",
                        help="start from a named parameter set (bgmix.presets; model options "
                             "and --config override it)")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="read options from a TOML file: keys are model parameter names "
                             "and long options with _ for - (command-line flags win)")
    parser.add_argument("--bootstrap", type=positive_int, metavar="N",
                        help="fit the model by batch EM on the first N frames (N >= 2), then "
                             "classify every frame online (the first masks wait for the fit)")
    parser.add_argument("--bootstrap-from", metavar="CLIP",
                        help="with --bootstrap N: fit on the first N frames of CLIP (the empty "
                             "scene) instead")
    parser.add_argument("--bootstrap-components", type=components, metavar="K|bic",
                        help="with --bootstrap N: components fitted per pixel, 1..n_components, "
                             "or 'bic' to choose per pixel (default: n_components)")
    parser.add_argument("--debug", action="store_true", default=None,
                        help="show the Python traceback of an unexpected error")
    clean = parser.add_argument_group(
        "mask clean-up", "applied to every mask before outputs and blobs (bgmix.postprocess)")
    clean.add_argument("--median", type=count, metavar="K",
                       help="median filter of odd size K (0 = off)")
    clean.add_argument("--open", type=count, metavar="K", dest="opening",
                       help="morphological opening, elliptical K x K (removes specks)")
    clean.add_argument("--close", type=count, metavar="K", dest="closing",
                       help="morphological closing, elliptical K x K (bridges gaps)")
    clean.add_argument("--fill-holes", action=argparse.BooleanOptionalAction, default=None,
                       help="fill background enclosed by foreground")
    clean.add_argument("--min-area", type=count, metavar="N",
                       help="remove foreground components (and blobs) smaller than N pixels")
    clean.add_argument("--shadows", choices=("keep", "fold"),
                       help="keep shadows as 127, or fold them into background (0)")
    add_model_options(parser)
