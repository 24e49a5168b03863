"""Where the RoI ops sample: per-axis bilinear weights (RoIAlign) and integer bin bounds (RoIPool).

Bilinear sampling on a regular grid of points is separable: a bin's average is ``Ay[k] @ image @ Ax[k].T`` with a
dense ``Ay[k, ph, y]`` (``Ax[k, pw, x]``) holding each bin row's (column's) interpolation weights summed over its
samples. The RoI ops turn into two matrix products per image, and autograd differentiates them as such."""
import ember


def axis_weights(start, end, pooled, size, sampling_ratio, aligned):
    """Dense ``[K, pooled, size]`` interpolation weights along one axis, each bin's sample mean folded in.

    ``start``/``end`` are the RoIs' bounds already scaled; aligned RoIs are shifted by half a pixel, the others are
    at least one pixel long. A sample is dropped where its coordinate lies outside ``[-1, size]`` (or is NaN), as
    torchvision's kernels do."""
    offset = 0.5 if aligned else 0.0
    start = start - offset
    length = end - offset - start
    if not aligned:
        length = length.clamp(min=1.0)
    bin_size = length / pooled
    if sampling_ratio > 0:
        grid = ember.full_like(length, sampling_ratio)
        samples = sampling_ratio
    else:
        grid = ember.ceil(length / pooled)
        samples = max(int(grid.max().item()), 0) if grid.numel() else 0
    k = start.shape[0]
    dtype, device = start.dtype, start.device
    p = ember.arange(pooled, device=device).to(dtype)[None, :, None]
    i = ember.arange(samples, device=device).to(dtype)[None, None, :]
    coord = start[:, None, None] + p * bin_size[:, None, None] + (i + 0.5) * (bin_size / grid)[:, None, None]
    valid = (coord >= -1.0) & (coord <= size) & (i < grid[:, None, None])
    coord = ember.where(valid, coord, ember.zeros_like(coord)).clamp(min=0)
    low = coord.floor().long()
    edge = low >= size - 1
    low = ember.where(edge, ember.full_like(low, size - 1), low)
    high = ember.where(edge, low, low + 1)
    frac = ember.where(edge, ember.zeros_like(coord), coord - low.to(dtype))
    scale = valid.to(dtype) / grid.clamp(min=1.0)[:, None, None]
    index = ember.cat([low, high], dim=-1).reshape(k, pooled, 2 * samples)
    weight = ember.cat([(1 - frac) * scale, frac * scale], dim=-1).reshape(k, pooled, 2 * samples)
    return ember.zeros(k, pooled, size, dtype=dtype, device=device).scatter_add_(2, index, weight)


def round_half_away(x):
    """C's ``round``: halves away from zero (``ember.round`` rounds them to even)."""
    return ember.sign(x) * ember.floor(x.abs() + 0.5)


def pool_bounds(start, end, pooled, size):
    """RoIPool's ``[K, pooled]`` integer bin bounds ``[lo, hi)`` along one axis, clipped to ``[0, size]``.

    ``start``/``end`` are the scaled RoI bounds; bins split the rounded RoI (at least one pixel) evenly."""
    start = round_half_away(start)
    length = (round_half_away(end) - start + 1).clamp(min=1)
    bin_size = length / pooled
    p = ember.arange(pooled, device=start.device).to(start.dtype)
    lo = ember.floor(p[None, :] * bin_size[:, None]) + start[:, None]
    hi = ember.ceil((p[None, :] + 1) * bin_size[:, None]) + start[:, None]
    return lo.clamp(0, size).long(), hi.clamp(0, size).long()


def chunks(total, per_item, budget=1 << 24):
    """Ranges over ``total`` items of ``per_item`` elements each, holding at most about ``budget`` elements."""
    step = max(1, budget // max(per_item, 1))
    return [(s, min(s + step, total)) for s in range(0, total, step)] if total else []


def group_by_image(batch_index, num_images):
    """``(image, positions)`` for each image that has RoIs, and the permutation back to the RoIs' order."""
    order = ember.sort(batch_index, stable=True).indices
    counts = ember.bincount(batch_index, minlength=num_images).tolist()
    groups, start = [], 0
    for image, n in enumerate(counts):
        if n:
            groups.append((image, order[start:start + n]))
            start += n
    return groups, ember.argsort(order)


def box_weights(lo, hi, size, dtype):
    """Dense ``[K, pooled, size]`` weights averaging each integer bin ``[lo, hi)`` (zero for an empty bin)."""
    pos = ember.arange(size, device=lo.device)[None, None, :]
    inside = (pos >= lo[:, :, None]) & (pos < hi[:, :, None])
    return inside.to(dtype) / (hi - lo).clamp(min=1).to(dtype)[:, :, None]


def separable_pool(input, rois, ay, ax, position_sensitive=False):
    """``[K, C, PH, PW]`` bins ``ay[k] @ input[image(k), c] @ ax[k].T`` of each RoI, two matrix products per image.

    Position-sensitive: the input's channels are ``C_out * PH * PW`` and bin ``(ph, pw)`` reads channel
    ``c * PH * PW + ph * PW + pw``; the result has ``C_out`` channels."""
    n, c, height, width = input.shape
    k, ph, pw = ay.shape[0], ay.shape[1], ax.shape[1]
    c_out = c // (ph * pw) if position_sensitive else c
    if k == 0:
        return input.reshape(-1)[:0].reshape(0, c_out, ph, pw)
    with ember.no_grad():
        groups, back = group_by_image(rois[:, 0].detach().long(), n)
    pieces = []
    for image, positions in groups:
        m = positions.shape[0]
        rows = ay[positions].reshape(m * ph, height) @ input[image].permute(1, 0, 2).reshape(height, c * width)
        if position_sensitive:
            rows = rows.reshape(m, ph, c_out, ph, pw, width)
            p = ember.arange(ph, device=input.device)
            rows = rows[:, p, :, p]  # the bin row's own channels: [PH, m, C_out, PW, W]
            pieces.append((rows * ax[positions][None, :, None]).sum(-1).permute(1, 2, 0, 3))
        else:
            rows = rows.reshape(m, ph, c, width).permute(0, 2, 1, 3)
            pieces.append(rows @ ax[positions].transpose(1, 2)[:, None])
    out = pieces[0] if len(pieces) == 1 else ember.cat(pieces, 0)
    return out[back]
