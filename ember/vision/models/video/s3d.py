"""S3D, the separable 3-D CNN of "Rethinking Spatiotemporal Feature Learning" (arXiv:1712.04851): Inception blocks
whose 3x3x3 convolutions are split into spatial and temporal ones, with torchvision's layout so its Kinetics-400
checkpoint loads. Inputs are clips ``(N, C, T, H, W)``."""
from functools import partial
from typing import Optional

import ember
from ember import nn

from ...ops.misc import Conv3dNormActivation
from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _KINETICS400_CATEGORIES
from .._utils import _load_weights, _ovewrite_named_param, handle_legacy_interface

__all__ = ["S3D", "S3D_Weights", "s3d"]


class TemporalSeparableConv(nn.Sequential):
    """A k x k x k convolution as a spatial 1 x k x k and a temporal k x 1 x 1 one, each with norm and ReLU."""

    def __init__(self, in_planes, out_planes, kernel_size, stride, padding, norm_layer):
        super().__init__(
            Conv3dNormActivation(in_planes, out_planes, kernel_size=(1, kernel_size, kernel_size),
                                 stride=(1, stride, stride), padding=(0, padding, padding), bias=False,
                                 norm_layer=norm_layer),
            Conv3dNormActivation(out_planes, out_planes, kernel_size=(kernel_size, 1, 1), stride=(stride, 1, 1),
                                 padding=(padding, 0, 0), bias=False, norm_layer=norm_layer),
        )


class SepInceptionBlock3D(nn.Module):
    """Four branches concatenated along channels: 1x1x1 (``b0_out``); 1x1x1 then separable 3x3x3 (``b1_mid`` to
    ``b1_out``, ``b2_mid`` to ``b2_out``); 3x3x3 max pool then 1x1x1 (``b3_out``)."""

    def __init__(self, in_planes, b0_out, b1_mid, b1_out, b2_mid, b2_out, b3_out, norm_layer):
        super().__init__()

        def pointwise(out_planes):
            return Conv3dNormActivation(in_planes, out_planes, kernel_size=1, stride=1, norm_layer=norm_layer)

        def separable(mid, out):
            return nn.Sequential(pointwise(mid), TemporalSeparableConv(mid, out, kernel_size=3, stride=1, padding=1,
                                                                       norm_layer=norm_layer))

        self.branch0 = pointwise(b0_out)
        self.branch1 = separable(b1_mid, b1_out)
        self.branch2 = separable(b2_mid, b2_out)
        self.branch3 = nn.Sequential(nn.MaxPool3d(kernel_size=(3, 3, 3), stride=1, padding=1), pointwise(b3_out))

    def forward(self, x):
        return ember.cat((self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)), 1)


class S3D(nn.Module):
    """S3D: ``features`` (separable stem, max pools, ten separable Inception blocks), a (2, 7, 7) average pool and a
    ``classifier`` (dropout, 1x1x1 conv to ``num_classes``) whose scores are averaged over what is left of time and
    space. ``norm_layer`` defaults to BatchNorm3d with eps 0.001 and momentum 0.001."""

    def __init__(self, num_classes=400, dropout=0.2, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm3d, eps=0.001, momentum=0.001)

        def block(*widths):
            return SepInceptionBlock3D(*widths, norm_layer)

        def spatial_pool():
            return nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

        self.features = nn.Sequential(
            TemporalSeparableConv(3, 64, 7, 2, 3, norm_layer),
            spatial_pool(),
            Conv3dNormActivation(64, 64, kernel_size=1, stride=1, norm_layer=norm_layer),
            TemporalSeparableConv(64, 192, 3, 1, 1, norm_layer),
            spatial_pool(),
            block(192, 64, 96, 128, 16, 32, 32),
            block(256, 128, 128, 192, 32, 96, 64),
            nn.MaxPool3d(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1)),
            block(480, 192, 96, 208, 16, 48, 64),
            block(512, 160, 112, 224, 24, 64, 64),
            block(512, 128, 128, 256, 24, 64, 64),
            block(512, 112, 144, 288, 32, 64, 64),
            block(528, 256, 160, 320, 32, 128, 128),
            nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0)),
            block(832, 256, 160, 320, 32, 128, 128),
            block(832, 384, 192, 384, 48, 128, 128),
        )
        self.avgpool = nn.AvgPool3d(kernel_size=(2, 7, 7), stride=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Conv3d(1024, num_classes, kernel_size=1, stride=1, bias=True))

    def forward(self, x):
        x = self.classifier(self.avgpool(self.features(x)))
        return ember.mean(x, dim=(2, 3, 4))


class S3D_Weights(WeightsEnum):
    """Pretrained weights of ``s3d``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = Weights(
        url="https://download.pytorch.org/models/s3d-d76dad2f.pth",
        transforms=partial(VideoClassification, crop_size=(224, 224), resize_size=(256, 256)),
        meta={
            "min_size": (224, 224),
            "min_temporal_size": 14,
            "categories": _KINETICS400_CATEGORIES,
            "recipe": "https://github.com/pytorch/vision/tree/main/references/video_classification#s3d",
            "_docs": (
                "The weights aim to approximate the accuracy of the paper. The accuracies are estimated on clip-level "
                "with parameters `frame_rate=15`, `clips_per_video=1`, and `clip_len=128`."
            ),
            "num_params": 8320048,
            "_metrics": {"Kinetics-400": {"acc@1": 68.368, "acc@5": 88.050}},
            "_ops": 17.979,
            "_file_size": 31.972,
        },
    )
    DEFAULT = KINETICS400_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", S3D_Weights.KINETICS400_V1))
def s3d(*, weights: Optional[S3D_Weights] = None, progress: bool = True, **kwargs):
    """Separable 3-D CNN (arXiv:1712.04851) for clips of at least 14 frames of 224 x 224; ``kwargs`` go to
    :class:`S3D`."""
    weights = S3D_Weights.verify(weights)
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(S3D(**kwargs), weights, progress)
