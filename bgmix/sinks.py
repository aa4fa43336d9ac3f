"""Former home of the overlay and background videos and :class:`ThreadedWriter`;
kept so older imports keep working. They are in :mod:`bgmix.outputs.videos`
and :mod:`bgmix.outputs.threaded`.
"""

from bgmix.outputs.threaded import ThreadedWriter
from bgmix.outputs.videos import (
    BOX_COLOUR,
    FOREGROUND_TINT,
    OVERLAY_SUFFIXES,
    SHADOW_TINT,
    BackgroundVideoWriter,
    OverlayVideoWriter,
    render_overlay,
    to_display,
)

__all__ = ["BOX_COLOUR", "FOREGROUND_TINT", "OVERLAY_SUFFIXES", "SHADOW_TINT",
           "BackgroundVideoWriter", "OverlayVideoWriter", "ThreadedWriter", "render_overlay",
           "to_display"]
