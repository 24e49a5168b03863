"""Where the RoI ops sample: per-axis bilinear weights (RoIAlign) and integer bin bounds (RoIPool), and the two
ways of pooling with them.

Bilinear sampling on a regular grid of points is separable: a bin's average is
``sum_s sum_t wy[k, ph, s] * wx[k, pw, t] * image[iy[k, ph, s], ix[k, pw, t]]`` over the rows ``iy`` and columns
``ix`` its samples touch. Small feature maps take it as ``Ay[k] @ image @ Ax[k].T`` with dense ``Ay [K, PH, H]``,
``Ax [K, PW, W]``: two matrix products per image. Large ones gather the touched pixels instead (the work of
torchvision's kernel), RoIs in chunks that bound the memory. Autograd differentiates either."""
import ember

# a gathered pixel (with its share of the backward's scatter) costs about as much as this many multiply-adds of the
# dense products: measured with NumPy on 2 cores, the gather wins from feature maps of about 200 x 200 (7 x 7 bins,
# 2 x 2 samples)
GATHER_COST = 300


def axis_weights(start, end, pooled, size, sampling_ratio, aligned):
    """Sparse ``([K, pooled, 2G] index, [K, pooled, 2G] weight)`` interpolation weights along one axis: the rows
    (columns) each bin's samples touch, each sample's share of the bin mean folded in.

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
    index = ember.cat([low, high], dim=-1)
    weight = ember.cat([(1 - frac) * scale, frac * scale], dim=-1)
    return index, weight


def dense(index, weight, size):
    """The ``[K, pooled, size]`` matrix of sparse per-axis weights."""
    k, pooled, _ = index.shape
    return ember.zeros(k, pooled, size, dtype=weight.dtype, device=weight.device).scatter_add_(2, index, weight)


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
    images = input.unbind(0)  # one node for all images: its backward stacks their gradients once
    pieces = []
    for image, positions in groups:
        m = positions.shape[0]
        rows = ay[positions].reshape(m * ph, height) @ images[image].permute(1, 0, 2).reshape(height, c * width)
        if position_sensitive:
            rows = rows.reshape(m, ph, c_out, ph, pw, width)
            p = ember.arange(ph, device=input.device)
            rows = rows[:, p, :, p]  # the bin row's own channels: [PH, m, C_out, PW, W]
            pieces.append((rows * ax[positions][None, :, None]).sum(-1).permute(1, 2, 0, 3))
        else:  # one (PH * C, W) @ (W, PW) product per RoI
            out = rows.reshape(m, ph * c, width) @ ax[positions].transpose(1, 2)
            pieces.append(out.reshape(m, ph, c, pw).permute(0, 2, 1, 3))
    out = pieces[0] if len(pieces) == 1 else ember.cat(pieces, 0)
    return out[back]


def sampled_pool(input, rois, ys, xs, position_sensitive=False):
    """RoIAlign-style pooling from sparse per-axis weights ``ys = (iy, wy)``, ``xs = (ix, wx)``, by whichever of
    the dense products and the gather does less work (see the module's docstring)."""
    (iy, wy), (ix, wx) = ys, xs
    height, width = input.shape[2:]
    if iy.shape[2] * ix.shape[1] * ix.shape[2] * GATHER_COST < height * width:
        return gather_pool(input, rois, ys, xs, position_sensitive)
    return separable_pool(input, rois, dense(iy, wy, height), dense(ix, wx, width), position_sensitive)


def gather_pool(input, rois, ys, xs, position_sensitive=False):
    """``[K, C, PH, PW]`` bins as weighted sums of the pixels they touch, gathered a chunk of RoIs at a time."""
    (iy, wy), (ix, wx) = ys, xs
    n, c, height, width = input.shape
    k, ph, s = iy.shape
    pw, t = ix.shape[1:]
    c_out = c // (ph * pw) if position_sensitive else c
    if k == 0:
        return input.reshape(-1)[:0].reshape(0, c_out, ph, pw)
    batch = rois[:, 0].detach().long()
    pieces = []
    for a, b in chunks(k, c_out * ph * s * pw * t):
        bi, y, x = batch[a:b], iy[a:b], ix[a:b]
        if position_sensitive:
            bins = ember.arange(ph * pw, device=input.device).reshape(1, ph, pw)
            channel = ember.arange(c_out, device=input.device)[:, None, None] * (ph * pw) + bins
            values = input[bi[:, None, None, None, None, None], channel[None, :, :, None, :, None],
                           y[:, None, :, :, None, None], x[:, None, None, None, :, :]]  # [k, C, PH, S, PW, T]
            values = values.permute(0, 2, 3, 4, 5, 1)
        else:
            values = input[bi[:, None, None, None, None], :, y[:, :, :, None, None], x[:, None, None, :, :]]
        rows = (values * wx[a:b, None, None, :, :, None]).sum(4)          # [k, PH, S, PW, C]
        pieces.append((rows * wy[a:b, :, :, None, None]).sum(2).permute(0, 3, 1, 2))
    return pieces[0] if len(pieces) == 1 else ember.cat(pieces, 0)
