"""Models driven from several Python threads at once.

The kernels release the GIL, so models on different threads really run at
the same time. Whether Numba allows that depends on its threading layer (see
``bgmix.model._threads``): ``tbb`` and ``omp`` do; ``workqueue`` aborts the
process on a concurrent launch, so bgmix serialises its kernels under it.
Both paths are tested: the layer this interpreter got, and ``workqueue``
forced in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numba
import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix._validation import state_invariant_violations
from bgmix.synth import make_scene
from tests.mixtures import plain_mixture

REPO = Path(__file__).resolve().parents[1]

# One job per covariance type, each with its own frame size, channels and thread count.
JOBS = [
    {"covariance_type": "spherical", "height": 40, "width": 56, "gray": False, "n_threads": None},
    {"covariance_type": "diag", "height": 32, "width": 48, "gray": True, "n_threads": 1},
    {"covariance_type": "full", "height": 48, "width": 40, "gray": False, "n_threads": None},
    {"covariance_type": "tied", "height": 24, "width": 64, "gray": False, "n_threads": 1},
]


def frames_for(job: dict, seed: int) -> np.ndarray:
    scene = make_scene("baseline", height=job["height"], width=job["width"], n_frames=90,
                       seed=seed, warmup=20, object_interval=8.0)
    frames = scene.frames
    return frames[..., 1].copy() if job["gray"] else frames


def run_model(job: dict, frames: np.ndarray, barrier: threading.Barrier | None = None):
    """Run a fresh model over ``frames``; with a barrier, every thread launches
    its kernel for frame ``t`` at the same moment (the worst case for a
    threading layer), instead of runs that may happen not to overlap."""
    model = plain_mixture(covariance_type=job["covariance_type"], n_threads=job["n_threads"])
    probability = np.empty(frames.shape[1:3], np.float32)
    masks, probabilities = [], []
    for frame in frames:
        if barrier is not None:
            barrier.wait(timeout=60)
        masks.append(model.apply(frame, probability=probability))
        probabilities.append(probability.copy())
    return model, np.stack(masks), np.stack(probabilities)


@pytest.fixture(scope="module")
def inputs():
    return [frames_for(job, seed) for seed, job in enumerate(JOBS)]


@pytest.fixture(scope="module")
def alone(inputs):
    """Each model run on its own, in the main thread: the expected results."""
    return [run_model(job, frames) for job, frames in zip(JOBS, inputs)]


def test_threading_layer_is_a_known_one(alone):
    assert numba.threading_layer() in ("tbb", "omp", "workqueue")


@pytest.mark.parametrize("repeat", range(2))
def test_models_on_concurrent_threads_match_the_same_models_run_alone(inputs, alone, repeat):
    results: list = [None] * len(JOBS)
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(JOBS))

    def work(i: int) -> None:
        try:
            results[i] = run_model(JOBS[i], inputs[i], barrier)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(JOBS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for job, (model, masks, probabilities), (expected_model, expected_masks, expected_p) in zip(
            JOBS, results, alone):
        np.testing.assert_array_equal(masks, expected_masks, err_msg=job["covariance_type"])
        np.testing.assert_array_equal(probabilities, expected_p, err_msg=job["covariance_type"])
        np.testing.assert_array_equal(model.weights_, expected_model.weights_)
        np.testing.assert_array_equal(model.means_, expected_model.means_)
        assert state_invariant_violations(model) == []
        assert (masks == 255).any() and (masks == 0).any()  # the scenes have objects


def test_one_model_shared_by_two_threads_under_a_lock_matches_a_serial_run(inputs):
    """A model is not thread-safe on its own (it learns in place); behind the
    caller's lock, frames from two threads give the results of one thread."""
    frames = inputs[0]
    serial = plain_mixture()
    expected = np.stack([serial.apply(frame) for frame in frames])
    shared = plain_mixture()
    lock = threading.Lock()
    masks: dict[int, np.ndarray] = {}
    next_index = iter(range(len(frames)))

    def work() -> None:
        while True:
            with lock:
                index = next(next_index, None)
                if index is None:
                    return
                masks[index] = shared.apply(frames[index])

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_array_equal(np.stack([masks[i] for i in range(len(frames))]), expected)


def test_a_models_thread_count_does_not_leak_into_other_threads():
    """numba.set_num_threads is per thread; the model restores the caller's count."""
    frame = np.zeros((8, 8, 3), np.uint8)
    plain_mixture(n_threads=1).apply(frame)  # starts the threading layer
    default = numba.config.NUMBA_NUM_THREADS
    seen: dict[str, int] = {}
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        numba.set_num_threads(1)
        seen["other before"] = numba.get_num_threads()
        inside.set()
        release.wait(10)
        seen["other after"] = numba.get_num_threads()

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    seen["main"] = numba.get_num_threads()
    plain_mixture(n_threads=default).apply(frame)
    seen["main after apply"] = numba.get_num_threads()
    release.set()
    thread.join()
    assert seen == {"other before": 1, "main": default, "main after apply": default,
                    "other after": 1}


_WORKQUEUE_SCRIPT = textwrap.dedent("""
    import threading
    import numba
    import numpy as np
    from bgmix import BackgroundMixture

    rng = np.random.default_rng(0)
    shapes = [(60, 80, 3), (48, 64), (40, 50, 3)]
    types = ["spherical", "diag", "full"]
    frames = [rng.integers(0, 256, (40, *shape), dtype=np.uint8) for shape in shapes]

    def run(i, barrier=None):
        model = BackgroundMixture.from_preset("mog2", renormalize=True, covariance_type=types[i])
        masks = []
        for frame in frames[i]:
            if barrier is not None:
                barrier.wait(timeout=60)
            masks.append(model.apply(frame))
        return np.stack(masks)

    expected = [run(i) for i in range(3)]
    results = [None] * 3
    barrier = threading.Barrier(3)

    def work(i):
        results[i] = run(i, barrier)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    same = all(np.array_equal(a, b) for a, b in zip(results, expected))
    print(numba.threading_layer(), "same" if same else "different")
""")


def test_concurrent_models_under_the_workqueue_layer_are_serialised_not_aborted():
    """Under workqueue, Numba aborts the process ("Concurrent access has been
    detected") when two threads launch kernels at once; bgmix takes turns."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    result = subprocess.run([sys.executable, "-c", _WORKQUEUE_SCRIPT], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["workqueue", "same"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_band_threads_work_in_a_forked_child_and_report_errors():
    """The band threads of bgmix._bands are started once per process; a child
    forked after they started has none and must start its own (it used to be
    a hang waiting for the parent's). An error in a band is raised in the caller."""
    from bgmix._bands import run_bands

    def fill(out, first, step):
        out[first::step] = first + 1

    out = np.zeros(6, np.int64)
    run_bands(fill, (out,), 3)
    assert out.tolist() == [1, 2, 3, 1, 2, 3]

    def fails(first, step):
        if first == 1:
            raise ValueError("band 1 failed")

    with pytest.raises(ValueError, match="band 1 failed"):
        run_bands(fails, (), 2)
    frame = np.zeros((24, 32, 3), np.uint8)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a 2-thread apply completes
        try:
            child = np.zeros(6, np.int64)
            run_bands(fill, (child,), 3)
            BackgroundMixture(n_threads=2).apply(frame)
            os._exit(0 if child.tolist() == [1, 2, 3, 1, 2, 3] else 1)
        except BaseException:
            os._exit(2)
    for _ in range(600):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        threading.Event().wait(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("a forked child hung waiting for the band threads")
    assert os.waitstatus_to_exitcode(status) == 0
