"""bgmix: real-time background subtraction with a per-pixel online Gaussian mixture."""

from bgmix.model import BackgroundMixture

__version__ = "0.1.0"

__all__ = ["BackgroundMixture", "__version__"]
