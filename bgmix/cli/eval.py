"""``bgmix eval``: CDnet scores of bgmix and OpenCV's subtractors, or of saved masks."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import bgmix
from bgmix.cli.options import add_model_options, model_params, positive_int
from bgmix.errors import EXIT_OK, UnavailableMethodError, one_line
from bgmix.outputs.atomic import write_atomic
from bgmix.model import BackgroundMixture


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
    from bgmix.methods import available_methods

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

    from bgmix import cdnet
    from bgmix import evaluation as ev
    from bgmix.methods import make_method, preset_params

    first = Path(args.first)
    if not first.exists():
        raise FileNotFoundError(f"no such folder: {first}")
    if not first.is_dir():
        raise ValueError(f"{first} is not a folder; give a CDnet sequence folder or a folder "
                         "of saved masks")
    given = model_params(args)
    uses_model = (bool(given) or args.preset is not None or args.compare is not None
                  or args.threads is not None)
    skipped: list[dict[str, str]] = []
    header: list[str] = []

    if cdnet.is_sequence_folder(first):
        if args.second is not None:
            raise ValueError(f"{first} is a sequence folder (input/ and groundtruth/), so it "
                             "takes no second folder; to score saved masks: "
                             "bgmix eval PRED_DIR GT_DIR")
        params = preset_params(args.preset) if args.preset is not None else {}
        params.update(given)
        name = "bgmix" if args.preset is None else f"bgmix:{args.preset}"
        methods = [make_method(params, n_threads=args.threads, name=name)]
        for spec in _compare_names(args.compare):
            try:
                methods.append(make_method(spec, n_threads=args.threads))
            except UnavailableMethodError as exc:
                print(f"bgmix: skipping {spec}: {one_line(exc)}", file=sys.stderr)
                skipped.append({"method": spec, "reason": one_line(exc)})
        n_inputs = len(cdnet.find_input_frames(first))  # fails early on a bad input/ folder
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
    elif cdnet.is_mask_folder(first):
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
        write_atomic(args.json, text)
    for line in header:
        print(line)
    print(_results_table(results))
    if footer:
        print(footer)
    if args.json is not None:
        print(f"json        {args.json}")
    return EXIT_OK


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``bgmix eval`` command to the subparsers ``commands``."""
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
    evaluate.add_argument("--threads", type=positive_int, metavar="N",
                          help="threads for every method: cv2.setNumThreads(N) and bgmix's "
                               "n_threads unless --n-threads is given (default: all cores)")
    evaluate.add_argument("--json", nargs="?", const="-", metavar="FILE",
                          help="write the results as JSON to FILE, or to stdout (instead of the "
                               "table) when FILE is omitted or '-'")
    evaluate.add_argument("-q", "--quiet", action="store_true",
                          help="no progress bar")
    add_model_options(evaluate)
    evaluate.set_defaults(func=_cmd_eval)
    return evaluate
