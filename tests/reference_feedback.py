"""Slow, obviously correct versions of the feedback and clean-up kernels (plain Python/NumPy)."""

from __future__ import annotations

import numpy as np


def majority_filter(mask: np.ndarray, size: int) -> np.ndarray:
    """Foreground where more than half of the (border-clipped) window is foreground."""
    height, width = mask.shape
    r = size // 2
    out = mask.copy()
    for y in range(height):
        for x in range(width):
            window = mask[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]
            if 2 * np.count_nonzero(window == 255) > window.size:
                out[y, x] = 255
            elif mask[y, x] == 255:
                out[y, x] = 0
    return out


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Non-255 pixels not 4-connected to the border through non-255 pixels become 255."""
    height, width = mask.shape
    reached = np.zeros(mask.shape, bool)
    todo = [(y, x) for y in range(height) for x in range(width)
            if (y in (0, height - 1) or x in (0, width - 1)) and mask[y, x] != 255]
    for y, x in todo:
        reached[y, x] = True
    while todo:
        y, x = todo.pop()
        for qy, qx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= qy < height and 0 <= qx < width and not reached[qy, qx] and mask[qy, qx] != 255:
                reached[qy, qx] = True
                todo.append((qy, qx))
    out = mask.copy()
    out[(mask != 255) & ~reached] = 255
    return out


def feedback_step(raw, neighbour, final, min_distance, distance, blink, hold, previous_raw,
                  var_threshold, feedback, hold_frames, absorb_rate, relearn_rate, light_change,
                  conservative):
    """Returns (final, distance, blink, hold, previous_raw, threshold, rate), inputs untouched."""
    final = final.copy()
    distance = distance.astype(np.float64)
    blink = blink.astype(np.float64)
    hold = hold.astype(np.float64)
    threshold = np.empty(raw.shape)
    rate = np.empty(raw.shape)
    for y, x in np.ndindex(raw.shape):
        raw_fg = raw[y, x] == 255
        was_fg = previous_raw[y, x] == 255
        newly = raw_fg and not was_fg
        if light_change and newly:
            final[y, x] = 0
        final_fg = final[y, x] == 255
        if not final_fg:
            d = min(min_distance[y, x] / (4 * var_threshold), 1.0)
            distance[y, x] += (d - distance[y, x]) * 0.02
        if raw_fg != was_fg and not final_fg:
            blink[y, x] += 1.0
        else:
            blink[y, x] = max(blink[y, x] - 0.1, 0.0)
        threshold[y, x] = var_threshold * (1 + feedback * (min(blink[y, x], 10) / 10 + distance[y, x]))
        touches = any(0 <= qy < raw.shape[0] and 0 <= qx < raw.shape[1] and final[qy, qx] == 255
                      for qy, qx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)))
        held = final_fg or (raw_fg and (neighbour[y, x] != 255 or touches))
        hold[y, x] = hold[y, x] + 1 if held else 0.0
        if light_change and newly:
            rate[y, x] = relearn_rate
            hold[y, x] = 0.0
        elif held and conservative:
            rate[y, x] = 0.0 if hold[y, x] < hold_frames else absorb_rate
        else:
            rate[y, x] = 1.0
    return final, distance, blink, hold, raw.copy(), threshold, rate


def consistent_shadows(frame, sample_scale, planes, n_components, n_modes, raw, neighbour,
                       distance, threshold, shadow_value, below, far, decay, half_width,
                       min_mass, min_share, histogram):
    """Returns (raw, neighbour, histogram, turned), inputs untouched.

    Each shadow pixel's brightness ratio to its heaviest component's mean (float32, the
    channels summed in order); those under ``below`` go into the decayed histogram; the band
    is the window of ``2 half_width + 1`` bins holding the most, when the histogram holds
    ``min_mass`` and the band ``min_share`` of it; dark shadow pixels whose bin is outside the band (all of them
    without one) -> 255.
    """
    f32 = np.float32
    height, width, n_channels = frame.shape
    raw, neighbour = raw.copy(), neighbour.copy()
    histogram = histogram.astype(np.float32) * f32(decay)
    bins = histogram.size
    dark = {}
    faint_far = []
    for y, x in np.ndindex(height, width):
        if raw[y, x] != shadow_value or n_modes[y, x] == 0:
            continue
        mean = [planes[n_components + c, y * width + x] for c in range(n_channels)]
        dot, norm = f32(0), f32(0)
        for c in range(n_channels):
            dot = f32(dot + f32(f32(frame[y, x, c]) * f32(sample_scale)) * mean[c])
            norm = f32(norm + mean[c] * mean[c])
        if norm > 0 and f32(dot / norm) >= below and far > 0 \
                and np.isfinite(distance[y, x]) and distance[y, x] > f32(far) * threshold[y, x]:
            faint_far.append((y, x))
        elif norm > 0 and f32(dot / norm) < below:
            a = f32(dot / norm)
            dark[y, x] = a
            histogram[min(max(int(float(a) * bins), 0), bins - 1)] += f32(1)
    total = float(np.sum(histogram, dtype=np.float64))
    width = 2 * half_width + 1
    sums = [float(np.sum(histogram[b:b + width], dtype=np.float64)) for b in range(bins - width + 1)]
    start = int(np.argmax(sums))  # the first of equal maxima
    band = range(0)
    if total >= min_mass and sums[start] >= min_share * total:
        band = range(start, start + width)
    outside = [(y, x) for (y, x), a in dark.items()
               if min(max(int(float(a) * bins), 0), bins - 1) not in band]
    for y, x in outside + faint_far:
        raw[y, x] = 255
        if neighbour[y, x] == shadow_value:
            neighbour[y, x] = 255
    return raw, neighbour, histogram, len(outside) + len(faint_far)


def texture_check(frame, sample_scale, planes, n_components, n_modes, raw, neighbour,
                  displaced_share, pattern, background_ratio, min_weight, relative, floor,
                  max_changed, share_step, max_share):
    """Returns (neighbour, displaced_share, checked, turned), inputs untouched.

    Every pixel's share moves by ``share_step`` towards 1 if it is displaced
    (255 in ``raw``, 0 in ``neighbour``), else towards 0. A displaced pixel
    whose new share is under ``max_share``, in a 3x3 block of pixels whose
    heaviest weight is at least ``min_weight``, turns 255 when more than
    ``max_changed`` bits of the frame's pattern around it are bits that no
    background component of the offset pixel gives."""
    height, width = raw.shape
    n_channels = frame.shape[2]
    out = neighbour.copy()
    displaced = (raw == 255) & (neighbour == 0)
    share = displaced_share.astype(np.float64)
    share += (displaced - share) * share_step
    weights = planes[0, :height * width].reshape(height, width)

    def grey_frame(y, x):
        return float(np.mean([float(frame[y, x, c]) * sample_scale for c in range(n_channels)]))

    def grey_mean(k, y, x):
        rows = planes[n_components + k * n_channels:n_components + (k + 1) * n_channels]
        return float(np.mean(rows[:, y * width + x]))

    def background_components(y, x):
        found, total = [], 0.0
        for k in range(n_modes[y, x]):
            if not total < background_ratio:
                break
            found.append(k)
            total += weights_of(k, y, x)
        return found

    def weights_of(k, y, x):
        return float(planes[k, y * width + x])

    checked = turned = 0
    for y, x in np.ndindex(raw.shape):
        if not displaced[y, x] or not share[y, x] < max_share:
            continue
        block = [(qy, qx) for qy in range(y - 1, y + 2) for qx in range(x - 1, x + 2)
                 if 0 <= qy < height and 0 <= qx < width]
        if not all(n_modes[q] > 0 and weights[q] >= min_weight for q in block):
            continue
        checked += 1
        centre, model_centre = grey_frame(y, x), grey_mean(0, y, x)
        changed = 0
        for dy, dx in pattern:
            qy, qx = y + dy, x + dx
            if not (0 <= qy < height and 0 <= qx < width) or n_modes[qy, qx] == 0:
                continue
            bit = abs(grey_frame(qy, qx) - centre) > relative * max(centre, floor)
            shown = {abs(grey_mean(k, qy, qx) - model_centre) > relative * max(model_centre, floor)
                     for k in background_components(qy, qx)}
            changed += bit not in shown
        if changed > max_changed:
            out[y, x] = 255
            turned += 1
    return out, share, checked, turned


def absorb_ghosts(frame, sample_scale, planes, n_components, hold, out, rate, min_hold,
                  min_weight, ratio, floor, min_pairs, relearn_rate):
    """Returns (hold, out, rate, absorbed), inputs untouched.

    ``I`` is a pixel's frame (times ``sample_scale``), ``M`` its heaviest
    component's mean; ``|a - b|`` is the mean absolute difference over the
    channels. Tested: held for at least ``min_hold`` frames, heaviest weight at
    least ``min_weight``, ``|I - M| > floor``. Ground: not held (hold 0) and
    heaviest weight at least ``min_weight``. Blobs: connected components of the
    tested pixels, 4-neighbours linked when ``|M_p - M_q| <= floor`` or ``ratio
    |M_p - M_q| < max(|I_p - M_p|, |I_q - M_q|)``. A blob is a ghost when, over
    its border (each member's 4-neighbours in the frame and not in the blob)
    and the border pairs with ground, there are at least ``min_pairs`` pairs,
    at least half the border, and the summed ``|M_p - M_q|`` exceeds ``ratio``
    times the summed ``|I_p - I_q|`` and ``floor`` per pair. A ghost blob's
    member is absorbed when the nearest ground pixel along its row and column
    was found in at least two directions and, in every one found, ``ratio |I -
    M_ground| < |I - M|``. Absorbed: hold 0, out 0, rate ``relearn_rate``."""
    height, width = hold.shape
    n_channels = frame.reshape(height, width, -1).shape[2]
    seen = frame.reshape(height, width, -1).astype(np.float64) * sample_scale
    model = planes[n_components:n_components + n_channels, :height * width].astype(
        np.float64).T.reshape(height, width, n_channels)
    heaviest = planes[0, :height * width].reshape(height, width).astype(np.float64)

    def apart(a, b):
        return float(np.abs(a - b).mean())

    change = np.abs(model - seen).mean(axis=2)
    settled = heaviest >= min_weight
    tested = (hold >= min_hold) & settled & (change > floor)
    ground = (hold == 0) & settled
    sides = [(-1, 0), (1, 0), (0, -1), (0, 1)]

    def inside(y, x):
        return 0 <= y < height and 0 <= x < width

    def explained(y, x):
        found = agree = 0
        for dy, dx in sides:
            qy, qx = y + dy, x + dx
            while inside(qy, qx) and not ground[qy, qx]:
                qy, qx = qy + dy, qx + dx
            if inside(qy, qx):
                found += 1
                agree += ratio * apart(seen[y, x], model[qy, qx]) < change[y, x]
        return found >= 2 and agree == found

    label = np.zeros((height, width), np.int64)
    blobs = []
    for y in range(height):
        for x in range(width):
            if not tested[y, x] or label[y, x]:
                continue
            label[y, x] = len(blobs) + 1
            members, todo = [], [(y, x)]
            while todo:
                py, px = todo.pop()
                members.append((py, px))
                for dy, dx in sides:
                    qy, qx = py + dy, px + dx
                    if not inside(qy, qx) or not tested[qy, qx] or label[qy, qx]:
                        continue
                    gap = apart(model[py, px], model[qy, qx])
                    if gap <= floor or ratio * gap < max(change[py, px], change[qy, qx]):
                        label[qy, qx] = len(blobs) + 1
                        todo.append((qy, qx))
            blobs.append(members)
    new_hold, new_out, new_rate = hold.copy(), out.copy(), rate.copy()
    absorbed = 0
    for number, members in enumerate(blobs, 1):
        border = pairs = 0
        frame_contrast = model_contrast = 0.0
        for py, px in members:
            for dy, dx in sides:
                qy, qx = py + dy, px + dx
                if not inside(qy, qx) or label[qy, qx] == number:
                    continue
                border += 1
                if ground[qy, qx]:
                    pairs += 1
                    frame_contrast += apart(seen[py, px], seen[qy, qx])
                    model_contrast += apart(model[py, px], model[qy, qx])
        ghost = (pairs >= min_pairs and 2 * pairs >= border
                 and model_contrast > ratio * frame_contrast and model_contrast > floor * pairs)
        if not ghost:
            continue
        for py, px in members:
            if explained(py, px):
                new_hold[py, px], new_out[py, px], new_rate[py, px] = 0, 0, relearn_rate
                absorbed += 1
    return new_hold, new_out, new_rate, absorbed
