"""Deformable convolution (v1, and v2 with a modulation mask): each kernel tap samples the input bilinearly at its
grid position plus a learned offset."""
import math

import ember
from ember import nn

from ._utils import _pair


def _check(input, offset, weight, mask, stride, padding, dilation, out_size, groups):
    kh, kw = weight.shape[-2:]
    n_weight_grps, n_offset_grps = groups
    for name, t in (("input", input), ("offset", offset), ("weight", weight)) + ((("mask", mask),) if mask is not None
                                                                                  else ()):
        if t.dim() != 4:
            raise RuntimeError(f"{name} should be a 4d tensor, got {t.dim()}D")
    for name, (a, b), ok in (("weight", (kh, kw), kh > 0 and kw > 0), ("stride", stride, min(stride) > 0),
                             ("pad", padding, min(padding) >= 0), ("dilation", dilation, min(dilation) > 0)):
        if not ok:
            raise RuntimeError(f"{name}_h: {a} {name}_w: {b}")
    if weight.shape[1] * n_weight_grps != input.shape[1] or weight.shape[0] % n_weight_grps:
        raise RuntimeError(f"weight of shape {tuple(weight.shape)} does not fit {input.shape[1]} input channels")
    if offset.shape[1] != n_offset_grps * 2 * kh * kw:
        raise RuntimeError(f"offset.shape[1] is not valid: got: {offset.shape[1]} expected: "
                           f"{n_offset_grps * 2 * kh * kw}")
    if mask is not None and mask.shape[1] != n_offset_grps * kh * kw:
        raise RuntimeError(f"mask.shape[1] is not valid: got: {mask.shape[1]} expected: {n_offset_grps * kh * kw}")
    if input.shape[1] % n_offset_grps:
        raise RuntimeError(f"{input.shape[1]} input channels do not split into {n_offset_grps} offset groups")
    for name, t in (("offset", offset),) + ((("mask", mask),) if mask is not None else ()):
        if t.shape[0] != input.shape[0]:
            raise RuntimeError(f"invalid batch size of {name}")
        if tuple(t.shape[2:]) != out_size:
            raise RuntimeError(f"{name} output dims: ({t.shape[2]}, {t.shape[3]}) - computed output dims: "
                               f"({out_size[0]}, {out_size[1]})")
    if min(out_size) <= 0:
        raise RuntimeError(f"Calculated output size too small - out_h: {out_size[0]} out_w: {out_size[1]}")


def _sample(input, y, x):
    """Bilinear samples ``[B, G, C/G, taps]`` of ``input`` grouped ``[B, G, C/G, H, W]`` at ``y``, ``x``
    (``[B, G, taps]``): zero outside ``(-1, size)``, the missing neighbours of border points read as zero."""
    b, g, cg, height, width = input.shape
    flat = input.reshape(b, g, cg, height * width)
    inside = (y > -1) & (y < height) & (x > -1) & (x < width)
    with ember.no_grad():
        y0, x0 = y.detach().floor(), x.detach().floor()
    ly, lx = y - y0, x - x0
    y0, x0 = y0.long(), x0.long()
    out = None
    for dy, wy in ((0, 1 - ly), (1, ly)):
        for dx, wx in ((0, 1 - lx), (1, lx)):
            yc, xc = y0 + dy, x0 + dx
            ok = inside & (yc >= 0) & (yc < height) & (xc >= 0) & (xc < width)
            index = (yc.clamp(0, height - 1) * width + xc.clamp(0, width - 1)).where(ok, ember.zeros_like(yc))
            values = ember.gather(flat, 3, index[:, :, None, :].expand(b, g, cg, index.shape[-1]))
            term = ember.where(ok, wy * wx, ember.zeros_like(wy))[:, :, None, :] * values
            out = term if out is None else out + term
    return out


def deform_conv2d(input, offset, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), mask=None):
    """Deformable convolution: tap ``(i, j)`` at output ``(oy, ox)`` reads ``input`` bilinearly at
    ``(oy*stride - pad + i*dilation + dy, ...)``, offsets ``[B, 2*G*kh*kw, H_out, W_out]`` (``dy``, ``dx`` pairs per
    offset group ``G``), scaled by ``mask [B, G*kh*kw, H_out, W_out]`` when given; weight groups as in conv2d."""
    kh, kw = weight.shape[-2:]
    n_offset_grps = offset.shape[1] // (2 * kh * kw)
    if n_offset_grps == 0:
        raise RuntimeError(
            "the shape of the offset tensor at dimension 1 is not valid. It should be a multiple of 2 * "
            f"weight.size[2] * weight.size[3].\nGot offset.shape[1]={offset.shape[1]}, while 2 * weight.size[2] * "
            f"weight.size[3]={2 * kh * kw}")
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    b, c, height, width = input.shape
    n_weight_grps = c // weight.shape[1]
    out_h = (height + 2 * padding[0] - (dilation[0] * (kh - 1) + 1)) // stride[0] + 1
    out_w = (width + 2 * padding[1] - (dilation[1] * (kw - 1) + 1)) // stride[1] + 1
    _check(input, offset, weight, mask, stride, padding, dilation, (out_h, out_w), (n_weight_grps, n_offset_grps))
    taps = kh * kw
    arange = lambda n: ember.arange(n, device=input.device).to(input.dtype)  # noqa: E731
    tap_y = (arange(kh) * dilation[0]).repeat_interleave(kw)
    tap_x = (arange(kw) * dilation[1]).repeat(kh)
    base_y = (arange(out_h) * stride[0] - padding[0])[None, :, None] + tap_y[:, None, None]
    base_x = (arange(out_w) * stride[1] - padding[1])[None, None, :] + tap_x[:, None, None]
    off = offset.reshape(b, n_offset_grps, taps, 2, out_h, out_w)
    points = taps * out_h * out_w
    y = (base_y + off[:, :, :, 0]).reshape(b, n_offset_grps, points)
    x = (base_x + off[:, :, :, 1]).reshape(b, n_offset_grps, points)
    columns = _sample(input.reshape(b, n_offset_grps, c // n_offset_grps, height, width), y, x)
    if mask is not None:
        columns = columns * mask.reshape(b, n_offset_grps, 1, points)
    columns = columns.reshape(b, n_weight_grps, (c // n_weight_grps) * taps, out_h * out_w)
    out = weight.reshape(n_weight_grps, weight.shape[0] // n_weight_grps, weight[0].numel())[None] @ columns
    out = out.reshape(b, weight.shape[0], out_h, out_w)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


class DeformConv2d(nn.Module):
    """Module form of :func:`deform_conv2d` (``weight`` and ``bias`` parameters); ``forward(input, offset, mask)``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super().__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.weight = nn.Parameter(ember.empty(out_channels, in_channels // groups, *self.kernel_size))
        if bias:
            self.bias = nn.Parameter(ember.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Conv2d's initialisation: Kaiming-uniform weight (a = sqrt(5)), bias uniform in +-1/sqrt(fan_in)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input, offset, mask=None):
        """Deformable convolution of ``input`` with ``offset`` (and ``mask``)."""
        return deform_conv2d(input, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, mask=mask)

    def __repr__(self):
        s = f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        s += f", padding={self.padding}" if self.padding != (0, 0) else ""
        s += f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        s += f", groups={self.groups}" if self.groups != 1 else ""
        s += ", bias=False" if self.bias is None else ""
        return s + ")"
