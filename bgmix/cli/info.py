"""``bgmix info``: versions, the Numba threading layer and cache, the CPU count."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

import bgmix
from bgmix.cli.run import default_source
from bgmix.errors import EXIT_OK
from bgmix.model import BackgroundMixture


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


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``bgmix info`` command to the subparsers ``commands``."""
    info = commands.add_parser(
        "info", help="versions, Numba threading layer and cache, CPU count",
        formatter_class=formatter,
        epilog="Examples:\n  bgmix info                  # paste this into a bug report\n"
               "  NUMBA_NUM_THREADS=2 bgmix info   # what a run limited to 2 threads uses",
        description="Print versions of bgmix and its dependencies, the Numba threading "
                    "layer, the Numba cache location and the CPU count.")
    info.set_defaults(func=_cmd_info)
    return info
