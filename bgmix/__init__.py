"""bgmix: real-time background subtraction with a per-pixel online Gaussian mixture.

Examples
--------
>>> import numpy as np
>>> from bgmix import BackgroundMixture
>>> model = BackgroundMixture()
>>> model.apply(np.zeros((2, 2, 3), np.uint8)).shape
(2, 2)
"""

from bgmix.io import BgmixWarning, DecodeWarning, StreamLostError
from bgmix.model import BackgroundMixture
from bgmix.pipeline import process
from bgmix.presets import PRESETS

__version__ = "0.1.0"

__all__ = [
    "BackgroundMixture",
    "BgmixWarning",
    "DecodeWarning",
    "PRESETS",
    "StreamLostError",
    "__version__",
    "process",
]
