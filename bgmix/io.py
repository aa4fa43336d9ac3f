"""Former home of the frame sources and mask writers; kept so older imports keep working.

========================================  ====================================
name                                      now in
========================================  ====================================
:func:`open_source`, the sources          :mod:`bgmix.sources`
:class:`MaskVideoWriter`,                 :mod:`bgmix.outputs.masks`
:class:`PngMaskWriter`,
:func:`open_mask_sink`, ``DEFAULT_FPS``
:class:`StreamLostError`,                 :mod:`bgmix.errors`
:class:`BgmixWarning`,
:class:`DecodeWarning`
========================================  ====================================
"""

from bgmix.errors import BgmixWarning, DecodeWarning, StreamLostError
from bgmix.outputs.masks import DEFAULT_FPS, MaskVideoWriter, PngMaskWriter, open_mask_sink
from bgmix.sources import (
    IMAGE_EXTENSIONS,
    LIVE_URL_SCHEMES,
    ArraySource,
    FrameSource,
    IterableSource,
    open_source,
)
from bgmix.sources.files import ImageSequenceSource, VideoFileSource
from bgmix.sources.live import LiveSource

__all__ = [
    "DEFAULT_FPS",
    "LIVE_URL_SCHEMES",
    "BgmixWarning",
    "DecodeWarning",
    "StreamLostError",
    "LiveSource",
    "IMAGE_EXTENSIONS",
    "FrameSource",
    "ArraySource",
    "IterableSource",
    "ImageSequenceSource",
    "VideoFileSource",
    "MaskVideoWriter",
    "PngMaskWriter",
    "open_source",
    "open_mask_sink",
]
