"""bgmix.outputs.atomic: the one way every output reaches its final name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix.outputs.atomic import (PartialFile, atomic_open, partial_path, write_atomic,
                                  write_json_atomic)


def test_partial_path_is_hidden_next_to_the_final_name_and_keeps_the_suffix():
    assert partial_path("out/masks.mkv") == Path("out/.masks.mkv.part.mkv")
    assert partial_path("det.txt") == Path(".det.txt.part.txt")
    assert partial_path("out/masks") == Path("out/.masks.part")
    assert partial_path("out/masks", ".mkv") == Path("out/.masks.part.mkv")


def test_commit_replaces_the_final_name_and_discard_keeps_it(tmp_path: Path):
    final = tmp_path / "a" / "b.txt"
    partial = PartialFile(final)  # creates the folder
    with partial.open("w") as file:
        file.write("new\n")
    assert not final.exists() and partial.path.read_text() == "new\n"
    assert partial.commit() == final and final.read_text() == "new\n"
    assert sorted(p.name for p in final.parent.iterdir()) == ["b.txt"]
    second = PartialFile(final)
    with second.open("w") as file:
        file.write("half")
    second.discard()
    second.discard()  # twice is harmless
    assert final.read_text() == "new\n" and sorted(os.listdir(final.parent)) == ["b.txt"]


def test_a_partial_file_left_by_a_killed_run_is_replaced(tmp_path: Path):
    final = tmp_path / "det.txt"
    partial_path(final).write_text("stale frames of a killed run\n")
    write_atomic(final, "fresh\n")
    assert final.read_text() == "fresh\n" and not partial_path(final).exists()


def test_atomic_open_keeps_the_old_file_when_the_block_fails(tmp_path: Path):
    path = tmp_path / "x.bin"
    write_atomic(path, b"old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_open(path) as file:
            file.write(b"new but incomplete")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_parents_false_refuses_a_missing_folder(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"\.m\.npz\.part\.npz"):
        with atomic_open(tmp_path / "missing" / "m.npz", parents=False):
            pass
    assert not (tmp_path / "missing").exists()


def test_files_get_the_permissions_of_a_new_file(tmp_path: Path):
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "x")
        BackgroundMixture().save(tmp_path / "m.npz")
    finally:
        os.umask(umask)
    for name in ("a.txt", "m.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_json_is_strict_and_indented(tmp_path: Path):
    path = write_json_atomic(tmp_path / "r.json", {"a": [1, 2]})
    assert path.read_text() == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json_atomic(tmp_path / "r.json", {"a": float("nan")})
    assert path.read_text().startswith('{\n  "a"')  # the failed write left the old file


def test_model_save_goes_through_the_partial_file(tmp_path: Path, monkeypatch):
    model = BackgroundMixture()
    model.apply(np.zeros((4, 4), np.uint8))
    seen = []
    commit = PartialFile.commit

    def recording_commit(self):
        seen.append((self.path.name, self.path.exists()))
        return commit(self)

    monkeypatch.setattr(PartialFile, "commit", recording_commit)
    model.save(tmp_path / "m.npz")
    assert seen == [(".m.npz.part.npz", True)]
    assert BackgroundMixture.load(tmp_path / "m.npz").n_frames_seen_ == 1
