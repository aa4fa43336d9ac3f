"""Tests of bgmix.blobs against hand-made rectangles."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.blobs import Blob, Blobs, find_blobs


@pytest.fixture
def two_rects():
    mask = np.zeros((30, 40), np.uint8)
    mask[2:6, 3:10] = 255        # 4 x 7 = 28 px, box (3, 2, 10, 6)
    mask[20:30, 30:40] = 255     # 10 x 10 = 100 px, touches the border
    mask[12:14, 12:14] = 127     # shadow: not a blob
    return mask


def test_boxes_areas_centroids(two_rects):
    blobs = find_blobs(two_rects)
    assert len(blobs) == 2
    assert blobs.boxes.dtype == np.int32 and blobs.boxes.shape == (2, 4)
    assert blobs.boxes.tolist() == [[3, 2, 10, 6], [30, 20, 40, 30]]
    assert blobs.areas.dtype == np.int64 and blobs.areas.tolist() == [28, 100]
    assert blobs.centroids.dtype == np.float64
    np.testing.assert_allclose(blobs.centroids, [[6.0, 3.5], [34.5, 24.5]])
    assert blobs.confidences.dtype == np.float32
    assert blobs.confidences.tolist() == [1.0, 1.0]
    assert blobs.labels is None
    assert blobs.xywh.tolist() == [[3, 2, 7, 4], [30, 20, 10, 10]]


def test_iteration_yields_blob_tuples(two_rects):
    items = list(find_blobs(two_rects))
    assert items[0] == Blob((3, 2, 10, 6), 28, (6.0, 3.5), 1.0)
    assert isinstance(items[1].area, int)


def test_confidence_is_mean_probability(two_rects):
    probability = np.zeros(two_rects.shape, np.float32)
    probability[2:6, 3:10] = 0.5
    probability[2:4, 3:10] = 1.0          # half the first blob at 1.0 -> mean 0.75
    probability[20:30, 30:40] = 0.25
    probability[0, 0] = 1.0               # outside any blob: ignored
    blobs = find_blobs(two_rects, probability)
    np.testing.assert_allclose(blobs.confidences, [0.75, 0.25], rtol=1e-6)


def test_min_area_and_labels(two_rects):
    blobs = find_blobs(two_rects, min_area=50, labels=True)
    assert blobs.boxes.tolist() == [[30, 20, 40, 30]]
    assert blobs.labels is not None and blobs.labels.dtype == np.int32
    assert set(np.unique(blobs.labels)) == {0, 1}
    assert (blobs.labels == 1).sum() == 100
    assert len(find_blobs(two_rects, min_area=101)) == 0


def test_connectivity():
    mask = np.zeros((5, 5), np.uint8)
    mask[1, 1] = mask[2, 2] = 255       # diagonal neighbours
    assert len(find_blobs(mask)) == 1
    assert len(find_blobs(mask, connectivity=4)) == 2


def test_empty():
    blobs = find_blobs(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32))
    assert len(blobs) == 0
    assert blobs.boxes.shape == (0, 4) and blobs.centroids.shape == (0, 2)
    assert list(blobs) == []
    assert len(Blobs.empty()) == 0


@pytest.mark.parametrize("call, message", [
    (lambda m: find_blobs(m.astype(np.float32)), "uint8"),
    (lambda m: find_blobs(m, min_area=-1), "min_area"),
    (lambda m: find_blobs(m, connectivity=6), "connectivity"),
    (lambda m: find_blobs(m, np.zeros((2, 2), np.float32)), "probability"),
    (lambda m: find_blobs(m, np.zeros(m.shape, np.uint8)), "probability"),
])
def test_validation(two_rects, call, message):
    with pytest.raises(ValueError, match=message):
        call(two_rects)


def test_to_supervision(two_rects):
    sv = pytest.importorskip("supervision")
    probability = np.where(two_rects == 255, 0.5, 0).astype(np.float32)
    detections = find_blobs(two_rects, probability).to_supervision()
    assert isinstance(detections, sv.Detections)
    assert len(detections) == 2
    np.testing.assert_allclose(detections.xyxy, [[3, 2, 10, 6], [30, 20, 40, 30]])
    np.testing.assert_allclose(detections.confidence, [0.5, 0.5])
    assert detections.class_id.tolist() == [0, 0]
    assert len(find_blobs(np.zeros((4, 4), np.uint8)).to_supervision()) == 0


def test_to_norfair(two_rects):
    norfair = pytest.importorskip("norfair")
    blobs = find_blobs(two_rects)
    corners = blobs.to_norfair()
    assert all(isinstance(d, norfair.Detection) for d in corners)
    np.testing.assert_allclose(corners[0].points, [[3, 2], [10, 6]])
    np.testing.assert_allclose(corners[0].scores, [1.0, 1.0])
    centroids = blobs.to_norfair(points="centroid")
    np.testing.assert_allclose(centroids[1].points, [[34.5, 24.5]])
    with pytest.raises(ValueError, match="points"):
        blobs.to_norfair(points="box")
