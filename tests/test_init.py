"""``import bgmix``: the public names, and no OpenCV until frames are decoded, encoded or drawn."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import bgmix


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_public_names():
    for name in bgmix.__all__:
        assert getattr(bgmix, name) is not None, name
    from bgmix import BackgroundMixture, StreamLostError, process  # noqa: F401
    from bgmix.pipeline import process as pipeline_process

    assert process is pipeline_process


def test_import_bgmix_loads_no_cv2():
    result = run_python("""
        import sys
        import bgmix
        import bgmix.cdnet, bgmix.errors, bgmix.metrics, bgmix.outputs.atomic, bgmix.presets
        import bgmix.outputs.tables, bgmix.sources, bgmix.signals
        print(sorted(m for m in sys.modules if m == "cv2" or m.startswith("cv2.")))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_model_and_the_loop_run_without_cv2_installed():
    result = run_python("""
        import sys
        sys.modules["cv2"] = None  # as if OpenCV were not installed: any import of it fails
        import numpy as np
        import bgmix
        frames = np.zeros((4, 6, 8, 3), np.uint8)
        frames[-1, 2:4, 2:5] = 255
        model = bgmix.BackgroundMixture()
        print(model.apply(frames[0]).shape)
        plain = bgmix.BackgroundMixture.from_preset("mog2")  # a 2x3 object: no 5x5 median
        masks = [r.mask for r in bgmix.process(frames, plain, blobs=False)]
        print(len(masks), int(masks[-1].max()))
        try:
            bgmix.process(frames)  # blobs need OpenCV's connected components
        except ImportError as exc:
            print("ImportError")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["(6, 8)", "4 255", "ImportError"]
