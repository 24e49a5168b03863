"""Building blocks shared by several architectures (torchvision keeps these in ``torchvision.ops.misc``)."""
from ... import nn


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then an optional norm layer, then an optional activation, as children ``0``, ``1``, ``2``.

    ``padding=None`` means "same" for odd kernels: ``(kernel_size - 1) // 2 * dilation``; the conv has a bias only
    when there is no norm layer, unless ``bias`` says otherwise."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            padding = _same_padding(kernel_size, dilation)
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


def _same_padding(kernel_size, dilation):
    if isinstance(kernel_size, int) and isinstance(dilation, int):
        return (kernel_size - 1) // 2 * dilation
    dims = len(kernel_size) if isinstance(kernel_size, (tuple, list)) else len(dilation)
    kernel_size = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    dilation = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    return tuple((k - 1) // 2 * d for k, d in zip(kernel_size, dilation))
