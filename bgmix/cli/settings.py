"""From parsed arguments to what the library takes: model parameters, clean-up,
output paths, live-source options and :class:`~bgmix.run.RunOptions` (``run`` and ``batch``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from bgmix.cli.options import model_params
from bgmix.model import BackgroundMixture
from bgmix.outputs.frame_outputs import DEFAULT_NAMES, GREY_OUTPUTS, SUFFIXES


def postprocess_settings(args: argparse.Namespace) -> Any:
    from bgmix.postprocess import Postprocess

    settings = {"median": args.median, "opening": args.opening, "closing": args.closing,
                "fill_holes": args.fill_holes, "min_area": args.min_area,
                "shadows": {"fold": "background"}.get(args.shadows, args.shadows)}
    given = {k: v for k, v in settings.items() if v is not None}
    if not given:
        return None
    settings = Postprocess(**given)
    return None if settings.is_identity else settings


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    from bgmix.presets import preset_params

    params = preset_params(args.preset) if args.preset is not None else {}
    params.update(model_params(args))
    return params


def output_paths(args: argparse.Namespace, folder: Path | None, *, batch: bool) -> dict[str, str]:
    """Output name -> path (run: as given, or the default name in ``folder``;
    batch: a name inside each video's folder)."""
    fmt = args.format or "mkv"
    names = dict(DEFAULT_NAMES, masks="masks.mkv" if fmt == "mkv" else "masks")
    asked = {name: getattr(args, name) for name in DEFAULT_NAMES
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
        allowed = SUFFIXES.get(name)
        if allowed is not None and suffix not in allowed:
            raise ValueError(f"--{name} {value}: the name must end in {' or '.join(allowed)}")
        if name in GREY_OUTPUTS and suffix not in ("", ".mkv"):
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


def check_not_source(paths: dict[str, str], source: Any) -> None:
    """Refuse an output that would replace the source (e.g. ``--overlay clip.mp4``
    where clip.mp4 was meant as SOURCE)."""
    if not isinstance(source, (str, os.PathLike)) or not os.path.exists(source):
        return
    for name, value in paths.items():
        if os.path.exists(value) and os.path.samefile(value, source):
            raise ValueError(f"--{name} {value} is the source itself; put SOURCE first "
                             f"(bgmix run SOURCE --{name}) or give --{name} a path")


def live_options(args: argparse.Namespace) -> dict[str, Any]:
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


def run_options(args: argparse.Namespace, outputs: dict[str, str]) -> Any:
    from bgmix.run import RunOptions

    for flag in ("bootstrap_from", "bootstrap_components"):
        if getattr(args, flag) is not None and args.bootstrap is None:
            raise ValueError(f"--{flag.replace('_', '-')} needs --bootstrap N (how many frames "
                             "to fit)")
    if args.bootstrap is not None and args.bootstrap < 2:
        raise ValueError(f"--bootstrap must be >= 2 (frames to fit), got {args.bootstrap}")
    params = model_settings(args)
    BackgroundMixture(**params)._validated()  # bad parameters fail before any file is opened
    return RunOptions(model_params=params, postprocess=postprocess_settings(args),
                      background_every=args.background_every or 1,
                      outlier_threshold=args.outlier_threshold,
                      max_frames=args.max_frames, bootstrap=args.bootstrap,
                      bootstrap_from=args.bootstrap_from,
                      bootstrap_options=({} if args.bootstrap_components is None
                                         else {"n_components": args.bootstrap_components}),
                      **outputs)


def event_settings(args: argparse.Namespace, folder: Path | None, *,
                   batch: bool) -> dict[str, Any]:
    """The :class:`~bgmix.run.RunOptions` fields of the motion-event flags."""
    from bgmix.cli.options import EVENT_OUTPUT_NAMES
    from bgmix.zones import parse_zones

    settings: dict[str, Any] = {}
    for name, default in EVENT_OUTPUT_NAMES.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if value is True:
            value = default if batch or folder is None else str(folder / default)
        elif batch and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError(f"--{name} {value}: in a batch, outputs are names inside each "
                             "video's folder (no absolute path, no '..')")
        settings[name] = value
    if "events" in settings and Path(settings["events"]).suffix.lower() != ".csv":
        raise ValueError(f"--events {settings['events']}: the name must end in .csv")
    if "report" in settings and Path(settings["report"]).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--report {settings['report']}: the name must end in .html")
    if getattr(args, "clips_overlay", None) and "clips" not in settings:
        raise ValueError("--clips-overlay needs --clips")
    if getattr(args, "clips_overlay", None):
        settings["clips_overlay"] = True
    if getattr(args, "roi", None) is not None:
        roi = Path(args.roi)
        if not roi.is_file():
            raise ValueError(f"--roi {args.roi}: no such file")
        settings["roi"] = str(roi.resolve())
    zones = getattr(args, "zone", None) or []
    if isinstance(zones, str):
        zones = [zones]
    if zones:
        parse_zones(list(zones))  # a bad zone fails before anything is opened
        settings["zones"] = tuple(zones)
    params: dict[str, Any] = {}
    for flag, field_name in (("event_min_area", "min_area"),
                             ("event_min_duration", "min_duration"),
                             ("event_merge_gap", "merge_gap"), ("event_warmup", "warmup")):
        if getattr(args, flag, None) is not None:
            params[field_name] = getattr(args, flag)
    if getattr(args, "event_padding", None) is not None:
        params["pre_padding"], params["post_padding"] = args.event_padding
    if params:
        from bgmix.events import EventParams

        EventParams(**params)  # out-of-range values fail before anything is opened
        settings["event_params"] = params
    return settings
