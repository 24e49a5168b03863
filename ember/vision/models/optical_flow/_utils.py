"""Flow helpers shared with torchvision's stereo models: sampling at pixel coordinates, the pixel-coordinate grid,
and upsampling a flow field (bilinearly or by learned convex combinations)."""
import ember
from ember.nn import functional as F


def grid_sample(img, absolute_grid, mode="bilinear", align_corners=None):
    """``F.grid_sample`` with a grid of absolute (x, y) pixel coordinates instead of [-1, 1] ones (y is left as is
    for one-row images)."""
    h, w = img.shape[-2:]
    xgrid, ygrid = absolute_grid.split([1, 1], dim=-1)
    xgrid = 2 * xgrid / (w - 1) - 1
    if h > 1:
        ygrid = 2 * ygrid / (h - 1) - 1
    return F.grid_sample(img, ember.cat([xgrid, ygrid], dim=-1), mode=mode, align_corners=align_corners)


def make_coords_grid(batch_size, h, w, device="cpu"):
    """``(batch_size, 2, h, w)`` float coordinates: channel 0 holds x (the column), channel 1 y (the row)."""
    device = ember.device(device)
    rows, cols = ember.meshgrid(ember.arange(h, device=device), ember.arange(w, device=device), indexing="ij")
    return ember.stack([cols, rows], dim=0).float()[None].repeat(batch_size, 1, 1, 1)


def upsample_flow(flow, up_mask=None, factor=8):
    """``flow`` ``(N, 2, h, w)`` at ``factor`` times the size, its vectors scaled by ``factor``: bilinearly
    (corners aligned) without ``up_mask``, else each fine pixel a softmax-weighted (convex) combination of the 3x3
    coarse neighbours, weights from ``up_mask`` ``(N, 9 * factor**2, h, w)`` (RAFT, appendix B)."""
    batch_size, num_channels, h, w = flow.shape
    new_h, new_w = h * factor, w * factor
    if up_mask is None:
        return factor * F.interpolate(flow, size=(new_h, new_w), mode="bilinear", align_corners=True)
    weights = ember.softmax(up_mask.view(batch_size, 1, 9, factor, factor, h, w), dim=2)
    neighbours = F.unfold(factor * flow, kernel_size=3, padding=1).view(batch_size, num_channels, 9, 1, 1, h, w)
    upsampled = ember.sum(weights * neighbours, dim=2)
    return upsampled.permute(0, 1, 4, 2, 5, 3).reshape(batch_size, num_channels, new_h, new_w)
