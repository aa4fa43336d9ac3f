"""ROI masks and named polygon zones (bgmix.zones)."""

from __future__ import annotations

import doctest
import os
import tomllib

import cv2
import numpy as np
import pytest

from bgmix import zones as zones_module
from bgmix.zones import Zone, ZoneSet, apply_roi, load_roi, parse_zone, parse_zones, zones_from_config
from tests.conftest import HIGHWAY


def test_doctests() -> None:
    assert doctest.testmod(zones_module, optionflags=doctest.ELLIPSIS).failed == 0


# --------------------------------------------------------------------------- parsing


def test_parse_zone_reads_name_and_points() -> None:
    zone = parse_zone("front-door_2=10,20, 60,20,60,90 ,10,90")
    assert zone.name == "front-door_2"
    assert zone.points == ((10, 20), (60, 20), (60, 90), (10, 90))
    assert parse_zone(zone.to_text()) == zone


@pytest.mark.parametrize("text, message", [
    ("door", "expected NAME=x1,y1"),
    ("=1,1,5,1,5,5", "zone name ''"),
    ("my door=1,1,5,1,5,5", "zone name 'my door'"),
    ("../x=1,1,5,1,5,5", "zone name '../x'"),
    ("door=1,1,5,1,5", "5 numbers; coordinates come in x,y pairs"),
    ("door=1,1,5,1", "at least 3 points"),
    ("door=1,1,5.5,1,5,5", "whole pixel numbers, got '5.5'"),
    ("door=1,1,a,1,5,5", "whole pixel numbers, got 'a'"),
    ("door=1,1,,1,5,5", "an empty coordinate"),
    ("door=", "an empty coordinate"),
    ("door=-1,1,5,1,5,5", "cannot be negative"),
])
def test_parse_zone_errors_quote_the_text(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_zone(text)
    assert message in str(info.value)
    assert repr(text) in str(info.value)


def test_parse_zones_refuses_duplicate_names() -> None:
    with pytest.raises(ValueError, match="zone a is defined twice"):
        parse_zones(["a=0,0,4,0,4,4", "a=1,1,5,1,5,5"])


def test_zones_from_toml_table_and_list() -> None:
    config = tomllib.loads("""
zones = ["lane=0,10,30,10,30,20"]
[cam]
zones = {door = [1, 2, 8, 2, 8, 9], gate = [[0, 0], [5, 0], [5, 5]]}
""")
    assert [z.name for z in zones_from_config(config["zones"], where="x.toml")] == ["lane"]
    table = zones_from_config(config["cam"]["zones"], where="x.toml")
    assert [(z.name, z.points) for z in table] == [
        ("door", ((1, 2), (8, 2), (8, 9))), ("gate", ((0, 0), (5, 0), (5, 5)))]


@pytest.mark.parametrize("value, message", [
    ({"door": "1,2,3"}, "x.toml: zones.door: expected a list"),
    ({"door": [[1, 2, 3], [4, 5], [6, 7]]}, "x.toml: zones.door: a point is [x, y]"),
    ({"door": [1, 2, 3, True, 5, 6]}, "whole pixel numbers, got True"),
    ({"door": [1, 2, 3, 4.5, 5, 6]}, "whole pixel numbers, got 4.5"),
    ({"bad name": [1, 2, 3, 4, 5, 6]}, "zone name 'bad name'"),
    (["door=1,2"], "x.toml: zones: "),
    ([3], "expected strings NAME=x1,y1"),
    (12, "zones must be a table"),
])
def test_zones_from_config_errors_name_the_file_and_key(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        zones_from_config(value, where="x.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("x.toml")


# --------------------------------------------------------------------------- rasterising


def test_rectangle_zone_covers_its_pixels_edges_included() -> None:
    mask = parse_zone("r=2,1,6,1,6,4,2,4").mask((10, 8))
    expected = np.zeros((8, 10), bool)
    expected[1:5, 2:7] = True
    np.testing.assert_array_equal(mask, expected)


def test_zone_point_outside_the_frame_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"zone r: point \(10, 1\) is outside the 10x8 frame"):
        parse_zone("r=2,1,10,1,6,4").mask((10, 8))


def test_triangle_zone_is_a_triangle() -> None:
    mask = Zone("t", ((0, 0), (99, 0), (0, 99))).mask((100, 100))
    assert mask[0, 0] and mask[5, 90] and not mask[90, 90]
    assert abs(int(mask.sum()) - 100 * 100 / 2) < 200


def test_zoneset_touches_by_box_labels_and_mask() -> None:
    zones = ZoneSet(["left=0,0,9,0,9,19,0,19", "right=30,0,39,0,39,19,30,19"], (40, 20))
    assert zones.names == ("left", "right")
    boxes = np.array([[5, 5, 12, 8],     # overlaps left
                      [10, 0, 30, 20],   # between the two: exclusive x2 = 30 misses right
                      [8, 2, 32, 4]])    # both
    assert zones.touched_by_boxes(boxes) == [("left",), (), ("left", "right")]
    labels = np.zeros((20, 40), np.int32)
    labels[3:6, 8:12] = 1                # crosses into left
    labels[10:12, 15:25] = 2             # in neither
    labels[0:2, 35:40] = 3               # right
    assert zones.touched_by_labels(labels, 3) == [("left",), (), ("right",)]
    assert zones.touched_by_mask(labels == 3) == ("right",)
    assert zones.pixel_counts(labels > 0) == {"left": 6, "right": 10}


def test_zoneset_clips_zones_to_the_roi() -> None:
    roi = np.zeros((20, 40), bool)
    roi[:, :20] = True
    zones = ZoneSet(["a=10,0,39,0,39,19,10,19"], (40, 20), roi=roi)
    assert zones.masks["a"][:, 20:].sum() == 0 and zones.masks["a"][:, 10:20].all()
    assert zones.boxes["a"] == (10, 0, 20, 20)
    with pytest.raises(ValueError, match="zone b lies entirely outside the ROI"):
        ZoneSet(["b=25,0,39,0,39,19"], (40, 20), roi=roi)
    with pytest.raises(ValueError, match="defined twice"):
        ZoneSet(["a=0,0,5,0,5,5", "a=0,0,6,0,6,6"], (40, 20))


# --------------------------------------------------------------------------- ROI files


def test_load_roi_non_zero_is_watched(tmp_path) -> None:
    image = np.zeros((24, 32), np.uint8)
    image[4:10, 5:20] = 1                # any non-zero value
    image[12, 3] = 200
    path = tmp_path / "roi.png"
    cv2.imwrite(str(path), image)
    roi = load_roi(path, (32, 24))
    assert roi.dtype == bool and roi.shape == (24, 32)
    np.testing.assert_array_equal(roi, image != 0)


def test_load_roi_colour_image_any_channel(tmp_path) -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    image[2, 3, 1] = 9
    path = tmp_path / "roi.png"
    cv2.imwrite(str(path), image)
    assert load_roi(path).sum() == 1


def test_load_roi_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=f"ROI {tmp_path / 'none.png'}: no such file"):
        load_roi(tmp_path / "none.png")
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    with pytest.raises(ValueError, match=f"ROI {fake}: not an image OpenCV can read"):
        load_roi(fake)
    path = tmp_path / "roi.png"
    cv2.imwrite(str(path), np.full((24, 32), 255, np.uint8))
    with pytest.raises(ValueError, match=f"ROI {path} is 32x24 but the frames are 64x48"):
        load_roi(path, (64, 48))
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.zeros((24, 32), np.uint8))
    with pytest.raises(ValueError, match=f"ROI {empty} watches no pixel"):
        load_roi(empty)
    with pytest.raises(ValueError, match="is a folder"):
        load_roi(tmp_path)


def test_cdnet_roi_bmp_reads_as_the_region_of_interest() -> None:
    roi_path = HIGHWAY / "ROI.bmp"
    if not roi_path.exists():
        pytest.skip("../shared/data/cdnet2014/baseline/highway is not available")
    first = cv2.imread(str(HIGHWAY / "input" / "in000001.jpg"))
    roi = load_roi(roi_path, (first.shape[1], first.shape[0]))
    # CDnet's ROI: 255 inside, 0 outside (highway's covers the whole frame)
    np.testing.assert_array_equal(roi, cv2.imread(str(roi_path), cv2.IMREAD_GRAYSCALE) != 0)
    with pytest.raises(ValueError, match="ROI .*ROI.bmp is 320x240 but the frames are 360x240"):
        load_roi(roi_path, (360, 240))


def test_apply_roi_zeroes_outside_and_checks_size() -> None:
    mask = np.full((3, 4), 255, np.uint8)
    mask[0, 0] = 127
    roi = np.zeros((3, 4), bool)
    roi[:, 2:] = True
    out = apply_roi(mask, roi)
    assert out[:, :2].max() == 0 and (out[:, 2:] == 255).all()
    assert mask[0, 1] == 255                       # the input is not changed
    assert apply_roi(mask, None) is mask
    with pytest.raises(ValueError, match="the mask is 5x3 but the ROI is 4x3"):
        apply_roi(np.zeros((3, 5), np.uint8), roi)


def test_zone_names_are_safe_file_name_parts() -> None:
    for name in ("door", "lane_1", "gate.north", "a-b"):
        assert os.sep not in name
        parse_zone(f"{name}=0,0,3,0,3,3")
    for bad in (".hidden", "-x", "a/b", "x" * 65):
        with pytest.raises(ValueError, match="zone name"):
            parse_zone(f"{bad}=0,0,3,0,3,3")
