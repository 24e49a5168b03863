"""VGG 11/13/16/19, with and without batch norm, with torchvision's ``features``/``avgpool``/``classifier`` layout."""
from ... import flatten, nn
from ._utils import _check_weights, register_model

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


class VGG(nn.Module):
    """``features`` (a conv stack), a 7x7 adaptive average pool and a three-layer ``classifier`` with dropout."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    """The conv stack for a config list: an int is a 3x3 conv with that many channels (+BN) + ReLU; "M" a 2x2
    max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
        layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [conv2d, nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _vgg(name, cfg, batch_norm, weights, kwargs):
    _check_weights(name, weights, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@register_model
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration A, arXiv:1409.1556); ``kwargs`` go to :class:`VGG`. ``weights`` must be None."""
    return _vgg("vgg11", "A", False, weights, kwargs)


@register_model
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with batch norm after each convolution."""
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


@register_model
def vgg13(*, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration B)."""
    return _vgg("vgg13", "B", False, weights, kwargs)


@register_model
def vgg13_bn(*, weights=None, progress=True, **kwargs):
    """VGG-13 with batch norm after each convolution."""
    return _vgg("vgg13_bn", "B", True, weights, kwargs)


@register_model
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration D)."""
    return _vgg("vgg16", "D", False, weights, kwargs)


@register_model
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with batch norm after each convolution."""
    return _vgg("vgg16_bn", "D", True, weights, kwargs)


@register_model
def vgg19(*, weights=None, progress=True, **kwargs):
    """VGG-19 (configuration E)."""
    return _vgg("vgg19", "E", False, weights, kwargs)


@register_model
def vgg19_bn(*, weights=None, progress=True, **kwargs):
    """VGG-19 with batch norm after each convolution."""
    return _vgg("vgg19_bn", "E", True, weights, kwargs)
