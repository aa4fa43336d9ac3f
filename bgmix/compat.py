"""OpenCV-style drop-in: code written against ``cv2.createBackgroundSubtractorMOG2`` runs unchanged.

This is the only module with OpenCV's camelCase names. The object wraps a
:class:`bgmix.BackgroundMixture` built from the ``"mog2"`` preset (OpenCV's
defaults and OpenCV's weight arithmetic, ``renormalize=False``): with the
same parameters its masks are OpenCV's, bit for bit, on 8-bit frames
(tests/test_parity.py checks every pixel of every frame of the shared CDnet
sequences and of a camera-jitter scene that fills the mixtures).
"""

from __future__ import annotations

import numpy as np

from bgmix.model import BackgroundMixture

__all__ = ["BackgroundSubtractorMOG2", "createBackgroundSubtractorMOG2"]


class BackgroundSubtractorMOG2:
    """OpenCV's ``BackgroundSubtractorMOG2`` interface over a ``BackgroundMixture``.

    As in OpenCV, a frame whose size or type differs from the previous one
    silently re-initialises the model (``BackgroundMixture.apply`` raises
    instead). The wrapped model is available as :attr:`model`.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.compat import createBackgroundSubtractorMOG2
    >>> mog = createBackgroundSubtractorMOG2(history=200, varThreshold=16, detectShadows=False)
    >>> mask = mog.apply(np.zeros((4, 4, 3), np.uint8))
    >>> mog.getHistory(), mask.shape
    (200, (4, 4))
    """

    def __init__(self, model: BackgroundMixture) -> None:
        self.model = model

    def apply(self, image: np.ndarray, fgmask: np.ndarray | None = None,
              learningRate: float = -1) -> np.ndarray:
        """Update the model and return the foreground mask (written to ``fgmask`` if given)."""
        model = self.model
        frame = np.asarray(image)
        if model.is_initialized:
            shape = frame.shape if frame.ndim == 3 else (*frame.shape, 1)
            if shape != model.frame_shape_ or frame.dtype.name != model.frame_dtype_:
                model.reset()
        rate = None if learningRate is None or learningRate < 0 else min(float(learningRate), 1.0)
        out = None
        if (fgmask is not None and fgmask.shape == frame.shape[:2] and fgmask.dtype == np.uint8
                and fgmask.flags.c_contiguous):
            out = fgmask
        mask = model.apply(frame, learning_rate=rate, out=out)
        if fgmask is not None and out is None:
            raise ValueError(
                f"fgmask must be a C-contiguous uint8 array of shape {frame.shape[:2]}, "
                f"got shape {fgmask.shape}, dtype {fgmask.dtype}; omit it to get a new array"
            )
        return mask

    def getBackgroundImage(self, backgroundImage: np.ndarray | None = None) -> np.ndarray:
        image = self.model.background_image()
        if backgroundImage is not None:
            backgroundImage[...] = image
            return backgroundImage
        return image

    def clear(self) -> None:
        self.model.reset()

    def empty(self) -> bool:
        return not self.model.is_initialized

    def getDefaultName(self) -> str:
        return "BackgroundSubtractor.MOG2"

    def _get(self, name: str):
        return getattr(self.model, name)

    def _set(self, name: str, value) -> None:
        self.model.set_params(**{name: value})

    def getHistory(self) -> int:
        return self._get("history")

    def setHistory(self, history: int) -> None:
        self._set("history", int(history))

    def getNMixtures(self) -> int:
        return self._get("n_components")

    def setNMixtures(self, nmixtures: int) -> None:
        self._set("n_components", int(nmixtures))

    def getBackgroundRatio(self) -> float:
        return self._get("background_ratio")

    def setBackgroundRatio(self, ratio: float) -> None:
        self._set("background_ratio", float(ratio))

    def getVarThreshold(self) -> float:
        return self._get("var_threshold")

    def setVarThreshold(self, varThreshold: float) -> None:
        self._set("var_threshold", float(varThreshold))

    def getVarThresholdGen(self) -> float:
        return self._get("var_threshold_gen")

    def setVarThresholdGen(self, varThresholdGen: float) -> None:
        self._set("var_threshold_gen", float(varThresholdGen))

    def getVarInit(self) -> float:
        return self._get("var_init")

    def setVarInit(self, varInit: float) -> None:
        self._set("var_init", float(varInit))

    def getVarMin(self) -> float:
        return self._get("var_min")

    def setVarMin(self, varMin: float) -> None:
        self._set("var_min", float(varMin))

    def getVarMax(self) -> float:
        return self._get("var_max")

    def setVarMax(self, varMax: float) -> None:
        self._set("var_max", float(varMax))

    def getComplexityReductionThreshold(self) -> float:
        return self._get("complexity_reduction")

    def setComplexityReductionThreshold(self, ct: float) -> None:
        self._set("complexity_reduction", float(ct))

    def getDetectShadows(self) -> bool:
        return self._get("detect_shadows")

    def setDetectShadows(self, detectShadows: bool) -> None:
        self._set("detect_shadows", bool(detectShadows))

    def getShadowValue(self) -> int:
        return self._get("shadow_value")

    def setShadowValue(self, value: int) -> None:
        self._set("shadow_value", int(value))

    def getShadowThreshold(self) -> float:
        return self._get("shadow_threshold")

    def setShadowThreshold(self, threshold: float) -> None:
        self._set("shadow_threshold", float(threshold))


def createBackgroundSubtractorMOG2(history: int = 500, varThreshold: float = 16,
                                   detectShadows: bool = True) -> BackgroundSubtractorMOG2:
    """Create an OpenCV-compatible MOG2 subtractor backed by bgmix.

    Non-positive ``history`` or ``varThreshold`` fall back to the defaults,
    as in OpenCV.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.compat import createBackgroundSubtractorMOG2
    >>> mog = createBackgroundSubtractorMOG2()
    >>> mog.apply(np.full((2, 2), 50, np.uint8), learningRate=-1).dtype
    dtype('uint8')
    """
    model = BackgroundMixture.from_preset(
        "mog2",
        history=int(history) if history > 0 else 500,
        var_threshold=float(varThreshold) if varThreshold > 0 else 16.0,
        detect_shadows=bool(detectShadows),
    )
    return BackgroundSubtractorMOG2(model)
