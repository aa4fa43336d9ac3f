"""Tests of bgmix.postprocess: each clean-up step on hand-made masks."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.postprocess import Postprocess, clean_mask


def square(h=20, w=20, top=5, left=5, size=8, value=255):
    mask = np.zeros((h, w), np.uint8)
    mask[top:top + size, left:left + size] = value
    return mask


def test_defaults_are_identity_and_return_a_copy():
    mask = square()
    mask[0, 0] = 127
    result = clean_mask(mask)
    assert Postprocess().is_identity
    np.testing.assert_array_equal(result, mask)
    assert result is not mask and not np.shares_memory(result, mask)
    assert result.dtype == np.uint8


def test_speck_removed_by_opening_and_by_min_area():
    mask = square()
    mask[1, 17] = 255  # isolated speck
    for result in (clean_mask(mask, opening=3), clean_mask(mask, min_area=2)):
        assert result[1, 17] == 0
        assert result[9, 9] == 255
    # min_area keeps the square intact; opening with an ellipse only trims corners
    np.testing.assert_array_equal(clean_mask(mask, min_area=2), square())


def test_speck_removed_by_median():
    mask = square()
    mask[1, 17] = 255
    result = clean_mask(mask, median=3)
    assert result[1, 17] == 0 and result[9, 9] == 255


def test_hole_filled_but_open_notch_not():
    mask = square(size=9)
    mask[8:10, 8:10] = 0            # enclosed hole
    mask[5, 12] = 0                 # notch touching the outside
    result = clean_mask(mask, fill_holes=True)
    assert (result[8:10, 8:10] == 255).all()
    assert result[5, 12] == 0
    assert (mask[8:10, 8:10] == 0).all()  # input untouched


def test_hole_at_border_component():
    # A ring touching the image border still encloses its hole.
    mask = np.zeros((6, 6), np.uint8)
    mask[0:5, 0:5] = 255
    mask[2, 2] = 0
    assert clean_mask(mask, fill_holes=True)[2, 2] == 255


def test_gap_closed():
    mask = np.zeros((20, 30), np.uint8)
    mask[5:15, 3:14] = 255
    mask[5:15, 15:27] = 255         # one-pixel vertical gap at x=14
    assert clean_mask(mask)[10, 14] == 0
    result = clean_mask(mask, closing=3)
    assert (result[6:14, 14] == 255).all()


def test_shadows_folded_or_kept():
    mask = square()
    mask[15:18, 15:18] = 127
    folded = clean_mask(mask, shadows="background")
    assert set(np.unique(folded)) == {0, 255}
    kept = clean_mask(mask, shadows="keep", opening=3)
    assert (kept[15:18, 15:18] == 127).all()


def test_shadow_becomes_foreground_when_filled_and_small_shadow_removed():
    mask = square(size=9)
    mask[9, 9] = 127                # shadow pixel enclosed by foreground
    mask[0, 19] = 127               # lone shadow speck
    mask[14:20, 0:4] = 127          # big shadow region (24 px)
    result = clean_mask(mask, fill_holes=True, min_area=4)
    assert result[9, 9] == 255
    assert result[0, 19] == 0
    assert (result[14:20, 0:4] == 127).all()


def test_removed_foreground_does_not_become_shadow():
    mask = np.zeros((10, 10), np.uint8)
    mask[2, 2] = 255
    assert clean_mask(mask, min_area=3)[2, 2] == 0


def test_out_and_in_place():
    mask = square()
    mask[1, 17] = 255
    out = np.full_like(mask, 7)
    result = clean_mask(mask, min_area=2, out=out)
    assert result is out and out[1, 17] == 0 and mask[1, 17] == 255
    assert clean_mask(mask, Postprocess(min_area=2), out=mask) is mask
    assert mask[1, 17] == 0


def test_channel_axis_accepted():
    mask = square()[:, :, None]
    assert clean_mask(mask, min_area=2).shape == (20, 20)


def test_callable_settings():
    mask = square()
    mask[1, 17] = 255
    assert Postprocess(min_area=2)(mask)[1, 17] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"median": 4}, "median must be odd"),
    ({"median": -1}, "median must be >= 0"),
    ({"median": 3.0}, "median must be an integer"),
    ({"opening": -2}, "opening must be >= 0"),
    ({"closing": True}, "closing must be an integer"),
    ({"min_area": -1}, "min_area must be >= 0"),
    ({"fill_holes": 1}, "fill_holes must be True or False"),
    ({"shadows": "drop"}, "shadows must be 'keep' or 'background'"),
    ({"connectivity": 6}, "connectivity must be 4 or 8"),
])
def test_validation_names_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Postprocess(**kwargs)
    with pytest.raises(ValueError, match=message):
        clean_mask(square(), **kwargs)


def test_settings_are_frozen():
    with pytest.raises(AttributeError, match="cannot assign to field 'median'"):
        Postprocess().median = 3  # type: ignore[misc]


def test_bad_inputs():
    with pytest.raises(ValueError, match="dtype uint8"):
        clean_mask(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        clean_mask(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="out must be"):
        clean_mask(square(), out=np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="not both"):
        clean_mask(square(), Postprocess(), median=3)
