"""bgmix: real-time background subtraction with a per-pixel online Gaussian mixture.

``import bgmix`` loads the model and its kernels, not OpenCV: OpenCV is
imported where frames are decoded, encoded or drawn (:mod:`bgmix.sources`,
:mod:`bgmix.outputs`), or masks cleaned and labelled (:mod:`bgmix.postprocess`,
:mod:`bgmix.blobs`), when first used. :func:`process` is loaded on first use.

Examples
--------
>>> import numpy as np
>>> from bgmix import BackgroundMixture
>>> model = BackgroundMixture()
>>> model.apply(np.zeros((2, 2, 3), np.uint8)).shape
(2, 2)
"""

from typing import Any

from bgmix.errors import BgmixError, BgmixWarning, DecodeWarning, StreamLostError
from bgmix.model import BackgroundMixture
from bgmix.presets import PRESETS

__version__ = "0.1.0"

__all__ = [
    "BackgroundMixture",
    "BgmixError",
    "BgmixWarning",
    "DecodeWarning",
    "PRESETS",
    "StreamLostError",
    "__version__",
    "process",
]


def __getattr__(name: str) -> Any:
    if name == "process":  # the pipeline imports the sources: loaded when first asked for
        from bgmix.pipeline import process

        globals()["process"] = process
        return process
    raise AttributeError(f"module 'bgmix' has no attribute {name!r}")
