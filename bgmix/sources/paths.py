"""What a path names: image and video suffixes, glob patterns, natural order.

Shared by :func:`bgmix.sources.open_source` (a folder or a pattern of
images), :func:`bgmix.batch.expand_inputs` (folders and patterns of videos)
and :mod:`bgmix.cdnet` (a sequence's ``input/`` frames).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["IMAGE_EXTENSIONS", "LIVE_URL_SCHEMES", "VIDEO_SUFFIXES", "has_images", "images_in",
           "is_glob", "is_live_url", "natural_key"]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp",
                              ".ppm", ".pgm", ".pbm", ".pnm"})
"""File suffixes (lower case) an image folder is scanned for."""

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg",
                            ".ts", ".mts", ".wmv", ".flv", ".mjpeg", ".mjpg", ".ogv", ".3gp"})
"""Suffixes (lower case) taken as videos when a batch is given a folder."""

LIVE_URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")
"""URL schemes :func:`~bgmix.sources.open_source` opens as a live source unless ``live=False``."""

_GLOB_CHARS = re.compile(r"[*?\[]")


def is_glob(text: str) -> bool:
    """Whether ``text`` is a glob pattern (holds ``*``, ``?`` or ``[``).

    Examples
    --------
    >>> is_glob("frames/*.png"), is_glob("clip.mp4")
    (True, False)
    """
    return _GLOB_CHARS.search(text) is not None


def is_live_url(text: str) -> bool:
    """Whether ``text`` is a URL with a scheme of :data:`LIVE_URL_SCHEMES`.

    Examples
    --------
    >>> is_live_url("RTSP://cam/1"), is_live_url("file:///clip.mp4")
    (True, False)
    """
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in LIVE_URL_SCHEMES


def natural_key(text: str) -> list[Any]:
    """Sort key that orders numbers by value: ``in2.png`` before ``in10.png``.

    Examples
    --------
    >>> sorted(["in10.png", "in2.png", "In1.png"], key=natural_key)
    ['In1.png', 'in2.png', 'in10.png']
    """
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def images_in(folder: str | os.PathLike[str]) -> list[str]:
    """The image files of a folder (hidden ones left out), in natural order."""
    names = [entry.path for entry in os.scandir(folder)
             if entry.is_file() and Path(entry.name).suffix.lower() in IMAGE_EXTENSIONS
             and not entry.name.startswith(".")]
    return sorted(names, key=natural_key)


def has_images(folder: Path) -> bool:
    """Whether a folder holds any file with an image suffix."""
    return any(p.suffix.lower() in IMAGE_EXTENSIONS for p in folder.iterdir() if p.is_file())
