"""``bgmix eval`` (bgmix.cli.eval): CDnet scores of methods on a sequence, of saved masks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import pytest

import bgmix
from bgmix.cli import main


# ---------------------------------------------------------------------------
# bgmix eval
# ---------------------------------------------------------------------------
SEQ_FRAMES = 60


@pytest.fixture(scope="module")
def cdnet_sequence(tmp_path_factory) -> Path:
    """A synthetic CDnet folder: 64x48, 60 frames, temporal ROI 31-60."""
    from bgmix.synth import make_scene, write_cdnet

    scene = make_scene("baseline", height=48, width=64, n_frames=SEQ_FRAMES, seed=0)
    return write_cdnet(scene, tmp_path_factory.mktemp("eval") / "synthetic")


def eval_json(capsys, *args: str) -> dict:
    assert main(["eval", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out)


def table_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert lines[start].split() == ["method", "F", "precision", "recall", "PWC", "ms/frame"]
    rows = {}
    for line in lines[start + 1:]:
        if line.startswith("ms/frame:") or line.startswith("json"):
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def test_eval_sequence_table(cdnet_sequence: Path, capsys):
    # The mog2 preset: the default's 5x5 majority filter costs recall on this
    # 64x48 scene's few-pixel objects (see test_eval_compare_runs_every_method_in_one_pass).
    assert main(["eval", str(cdnet_sequence), "--preset", "mog2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("synthetic: 60 frames run, frames 31-60 scored")
    rows = table_rows(out)
    assert list(rows) == ["bgmix:mog2"]
    f, precision, recall, pwc, ms = rows["bgmix:mog2"]
    assert float(f) > 0.85 and float(precision) > 0.9 and float(recall) > 0.8
    assert float(ms) > 0
    # columns line up: every row as wide as the header
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert len(lines[header]) == len(lines[header + 1])


def test_eval_compare_runs_every_method_in_one_pass(cdnet_sequence: Path, capsys, monkeypatch):
    import bgmix.sources.files

    reads = []
    read_image = bgmix.sources.files.read_image
    monkeypatch.setattr(bgmix.sources.files, "read_image",
                        lambda path: reads.append(path) or read_image(path))
    doc = eval_json(capsys, str(cdnet_sequence), "--compare", "mog2,knn,mog2+median")
    assert len(reads) == SEQ_FRAMES
    assert [r["method"] for r in doc["results"]] == ["bgmix", "mog2", "knn", "mog2+median"]
    for r in doc["results"]:
        assert r["n_frames"] == SEQ_FRAMES and r["n_scored_frames"] == 30
        assert r["temporal_roi"] == [31, 60]
        for key in ("f_measure", "precision", "recall", "pwc", "specificity", "fpr", "fnr",
                    "ms_per_frame_median", "ms_per_frame_mean"):
            assert isinstance(r[key], float), key
        assert set(r["counts"]) == {"tp", "fp", "fn", "tn"}
        assert r["sequence"] == "synthetic"
    bgmix_result, mog2 = doc["results"][:2]
    # The default (robust) model raises no false alarm on a plain scene (its 5x5
    # majority filter does cost recall on this 64x48 scene's few-pixel objects).
    assert bgmix_result["precision"] >= 0.99 and mog2["precision"] >= 0.99
    assert bgmix_result["params"]["history"] == 500 and mog2["params"] is None
    assert doc["sequence"] == "synthetic" and doc["skipped"] == []
    assert doc["bgmix_version"] == bgmix.__version__


def test_eval_model_options_preset_and_threads(cdnet_sequence: Path, capsys):
    doc = eval_json(capsys, str(cdnet_sequence), "--preset", "mog2", "--history", "20",
                    "--no-detect-shadows", "--threads", "1", "--compare", "bgmix")
    tuned, plain = doc["results"]
    assert tuned["method"] == "bgmix:mog2" and plain["method"] == "bgmix"
    assert tuned["params"]["history"] == 20 and tuned["params"]["detect_shadows"] is False
    assert tuned["params"]["n_threads"] == 1 and plain["params"]["n_threads"] == 1
    assert doc["n_threads"] == 1
    assert tuned["f_measure"] != plain["f_measure"]
    assert main(["eval", str(cdnet_sequence), "-q", "--history", "20"]) == 0
    assert "bgmix parameters: history=20" in capsys.readouterr().out


def test_eval_json_file_and_table(cdnet_sequence: Path, tmp_path: Path, capsys):
    target = tmp_path / "results.json"
    assert main(["eval", str(cdnet_sequence), "-q", "--compare", "knn+median",
                 f"--json={target}"]) == 0
    out = capsys.readouterr().out
    assert set(table_rows(out)) == {"bgmix", "knn+median"}
    doc = json.loads(target.read_text())
    rows = table_rows(out)
    for r in doc["results"]:
        assert rows[r["method"]][0] == f"{r['f_measure']:.4f}"


def test_eval_saved_masks(cdnet_sequence: Path, tmp_path: Path, capsys):
    # the ground truth itself as predictions: perfect
    gt_as_pred = tmp_path / "gt_as_pred"
    gt_as_pred.mkdir()
    for gt in sorted((cdnet_sequence / "groundtruth").iterdir()):
        (gt_as_pred / gt.name.replace("gt", "bin")).write_bytes(gt.read_bytes())
    doc = eval_json(capsys, str(gt_as_pred), str(cdnet_sequence))
    (r,) = doc["results"]
    assert (r["f_measure"], r["precision"], r["recall"], r["pwc"]) == (1.0, 1.0, 1.0, 0.0)
    assert r["method"] == "gt_as_pred" and r["ms_per_frame_median"] is None
    assert r["n_scored_frames"] == 30
    # masks saved by `bgmix run` score what `bgmix eval SEQUENCE_DIR` scores
    assert main(["run", str(cdnet_sequence / "input"), "-o", str(tmp_path / "out"),
                 "--format", "png", "--quiet"]) == 0
    saved = eval_json(capsys, str(tmp_path / "out" / "masks"), str(cdnet_sequence))
    live = eval_json(capsys, str(cdnet_sequence))
    assert saved["results"][0]["counts"] == live["results"][0]["counts"]
    assert main(["eval", str(tmp_path / "out" / "masks"), str(cdnet_sequence)]) == 0
    out = capsys.readouterr().out
    assert table_rows(out)["masks"][-1] == "-"  # no timing for saved masks


def test_eval_errors_exit_2_one_line(cdnet_sequence: Path, tmp_path: Path, capsys):
    def error(*args: str) -> str:
        assert main(["eval", *args]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in captured.err
        return lines[0]

    seq = str(cdnet_sequence)
    missing = tmp_path / "nope"
    assert error(str(missing)) == f"bgmix: error: no such folder: {missing}"
    assert "neither a CDnet sequence folder" in error(str(tmp_path))
    (tmp_path / "clip.txt").write_text("x")
    assert "is not a folder" in error(str(tmp_path / "clip.txt"))
    assert "takes no second folder" in error(seq, seq)
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "bin000001.png").write_bytes((cdnet_sequence / "groundtruth" /
                                           "gt000001.png").read_bytes())
    assert "bgmix eval PRED_DIR GT_DIR" in error(str(masks))
    assert "need a sequence folder" in error(str(masks), seq, "--compare", "mog2")
    assert "prediction file(s) missing" in error(str(masks), seq)
    assert f"no such folder: {missing}" in error(str(masks), str(missing))
    assert "unknown method 'vibe'" in error(seq, "--compare", "mog2,vibe")
    assert "--compare needs method names" in error(seq, "--compare", ",")
    assert "unknown preset 'nope'" in error(seq, "--preset", "nope")
    assert "history must be >= 1, got 0" in error(seq, "--history", "0")
    assert main(["eval", seq, "--threads", "0"]) == 2  # argparse: usage, then the error
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "argument --threads: expected a positive integer, got 0")
    only_input = tmp_path / "only_input"
    shutil.copytree(cdnet_sequence / "input", only_input / "input")
    assert "no groundtruth/ folder" in error(str(only_input))
    broken = tmp_path / "broken"
    shutil.copytree(cdnet_sequence, broken)
    (broken / "input" / "in000060.png").unlink()
    assert "holds 59 frames but frames 31 to 60 are to be scored" in error(str(broken))
    for p in (broken / "input").iterdir():
        p.unlink()
    assert "holds no input frames" in error(str(broken))


def test_eval_skips_methods_this_opencv_lacks(cdnet_sequence: Path, capsys, monkeypatch):
    monkeypatch.delattr(cv2, "bgsegm", raising=False)
    assert main(["eval", str(cdnet_sequence), "--compare", "gsoc,mog2", "--json"]) == 0
    captured = capsys.readouterr()
    assert "bgmix: skipping gsoc:" in captured.err and "opencv-contrib-python" in captured.err
    doc = json.loads(captured.out)
    assert [r["method"] for r in doc["results"]] == ["bgmix", "mog2"]
    assert doc["skipped"][0]["method"] == "gsoc"
    # "all" is every OpenCV method this installation has
    doc = eval_json(capsys, str(cdnet_sequence), "--compare", "all")
    assert [r["method"] for r in doc["results"]] == [
        "bgmix", "mog2", "mog2+median", "knn", "knn+median"]


def test_eval_help(capsys):
    assert main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "bgmix eval PRED_DIR GT_DIR" in out and "Examples" in out
    assert "--compare" in out and "--json" in out and "--var-threshold" in out
    assert main(["--help"]) == 0
    assert "bgmix eval" in capsys.readouterr().out


def test_eval_highway_bgmix_matches_opencv_mog2(highway_dir: Path, tmp_path: Path, capsys):
    """Acceptance: the "mog2" preset gives OpenCV MOG2's F-measure (0.708) on CDnet highway."""
    target = tmp_path / "highway.json"
    assert main(["eval", str(highway_dir), "--preset", "mog2", "--compare", "mog2", "--quiet",
                 f"--json={target}"]) == 0
    out = capsys.readouterr().out
    assert set(table_rows(out)) == {"bgmix:mog2", "mog2"}
    doc = json.loads(target.read_text())
    bgmix_result, mog2 = doc["results"]
    assert bgmix_result["n_frames"] == mog2["n_frames"] == 1700
    assert bgmix_result["temporal_roi"] == [470, 1700]
    assert bgmix_result["f_measure"] == pytest.approx(0.708, abs=0.005)
    assert mog2["f_measure"] == pytest.approx(0.708, abs=0.005)
    assert bgmix_result["f_measure"] == pytest.approx(mog2["f_measure"], abs=0.002)
