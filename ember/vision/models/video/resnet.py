"""The 18-layer video ResNets of "A Closer Look at Spatiotemporal Convolutions for Action Recognition"
(arXiv:1711.11248): R3D (3-D convolutions throughout), MC3 (3-D in the first stage, spatial-only after) and R(2+1)D
(each 3-D convolution split into a spatial and a temporal one), with torchvision's layout so its Kinetics-400
checkpoints load. Inputs are clips ``(N, C, T, H, W)``."""
from functools import partial
from typing import Optional

from ember import nn

from ...transforms._presets import VideoClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _KINETICS400_CATEGORIES
from .._utils import _load_weights, _ModelURLs, _ovewrite_named_param, handle_legacy_interface

__all__ = ["VideoResNet", "R3D_18_Weights", "MC3_18_Weights", "R2Plus1D_18_Weights", "r3d_18", "mc3_18",
           "r2plus1d_18"]


class Conv3DSimple(nn.Conv3d):
    """A full 3x3x3 convolution, strided in time and space alike (``midplanes`` unused)."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        super().__init__(in_channels=in_planes, out_channels=out_planes, kernel_size=(3, 3, 3), stride=stride,
                         padding=padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        """The (T, H, W) stride of the shortcut's 1x1x1 convolution."""
        return stride, stride, stride


class Conv2Plus1D(nn.Sequential):
    """A (2+1)-D convolution: 1x3x3 spatial to ``midplanes``, BN, ReLU, then 3x1x1 temporal to ``out_planes``."""

    def __init__(self, in_planes, out_planes, midplanes, stride=1, padding=1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                      padding=(0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(padding, 0, 0),
                      bias=False),
        )

    @staticmethod
    def get_downsample_stride(stride):
        """The (T, H, W) stride of the shortcut's 1x1x1 convolution."""
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """A spatial-only 1x3x3 convolution (``midplanes`` unused); time keeps its length."""

    def __init__(self, in_planes, out_planes, midplanes=None, stride=1, padding=1):
        super().__init__(in_channels=in_planes, out_channels=out_planes, kernel_size=(1, 3, 3),
                         stride=(1, stride, stride), padding=(0, padding, padding), bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        """The (T, H, W) stride of the shortcut's 1x1x1 convolution."""
        return 1, stride, stride


def _midplanes(inplanes, planes):
    """R(2+1)D's intermediate width: as many parameters as the full 3x3x3 convolution it replaces."""
    return (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)


class BasicBlock(nn.Module):
    """Two ``conv_builder`` convolutions with BN (``conv1`` with ReLU) plus a shortcut."""

    expansion = 1

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None):
        midplanes = _midplanes(inplanes, planes)
        super().__init__()
        self.conv1 = nn.Sequential(conv_builder(inplanes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1x1 reduce, a ``conv_builder`` convolution, 1x1x1 expand by 4 (each with BN), plus a shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None):
        super().__init__()
        midplanes = _midplanes(inplanes, planes)
        self.conv1 = nn.Sequential(nn.Conv3d(inplanes, planes, kernel_size=1, bias=False), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, midplanes, stride), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv3 = nn.Sequential(nn.Conv3d(planes, planes * self.expansion, kernel_size=1, bias=False),
                                   nn.BatchNorm3d(planes * self.expansion))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.conv3(self.conv2(self.conv1(x)))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class BasicStem(nn.Sequential):
    """The default stem: 3x7x7 conv (spatial stride 2) to 64 channels, BN, ReLU."""

    def __init__(self):
        super().__init__(nn.Conv3d(3, 64, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                         nn.BatchNorm3d(64), nn.ReLU(inplace=True))


class R2Plus1dStem(nn.Sequential):
    """R(2+1)D's stem: the 3x7x7 convolution split into 1x7x7 (to 45 channels) and 3x1x1 (to 64), each with BN and
    ReLU."""

    def __init__(self):
        super().__init__(
            nn.Conv3d(3, 45, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(45),
            nn.ReLU(inplace=True),
            nn.Conv3d(45, 64, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


class VideoResNet(nn.Module):
    """``stem``, four stages ``layer1..layer4`` of ``block``s whose convolutions ``conv_makers[i]`` builds (64 to 512
    channels, stride 2 from the second), global average pool over (T, H, W) and ``fc`` to ``num_classes``.
    ``zero_init_residual`` zeroes the last BN of each bottleneck (as torchvision's, it names ``bn3``, which these
    blocks lack)."""

    def __init__(self, block, conv_makers, layers, stem, num_classes=400, zero_init_residual=False):
        super().__init__()
        self.inplanes = 64
        self.stem = stem()
        self.layer1 = self._make_layer(block, conv_makers[0], 64, layers[0], stride=1)
        self.layer2 = self._make_layer(block, conv_makers[1], 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, conv_makers[2], 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, conv_makers[3], 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)

    def forward(self, x):
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))

    def _make_layer(self, block, conv_builder, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv3d(self.inplanes, planes * block.expansion, kernel_size=1,
                          stride=conv_builder.get_downsample_stride(stride), bias=False),
                nn.BatchNorm3d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, conv_builder) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def _video_resnet(block, conv_makers, layers, stem, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    return _load_weights(VideoResNet(block, conv_makers, layers, stem, **kwargs), weights, progress)


_COMMON_META = {
    "min_size": (1, 1),
    "categories": _KINETICS400_CATEGORIES,
    "recipe": "https://github.com/pytorch/vision/tree/main/references/video_classification",
    "_docs": (
        "The weights reproduce closely the accuracy of the paper. The accuracies are estimated on video-level "
        "with parameters `frame_rate=15`, `clips_per_video=5`, and `clip_len=16`."
    ),
}


def _kinetics_weights(url, num_params, acc1, acc5, ops, file_size):
    """A Kinetics-400 ``Weights`` entry of the 112-pixel clips' preset."""
    return Weights(url=url, transforms=partial(VideoClassification, crop_size=(112, 112), resize_size=(128, 171)),
                   meta={**_COMMON_META, "num_params": num_params,
                         "_metrics": {"Kinetics-400": {"acc@1": acc1, "acc@5": acc5}}, "_ops": ops,
                         "_file_size": file_size})


class R3D_18_Weights(WeightsEnum):
    """Pretrained weights of ``r3d_18``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/r3d_18-b3b3357e.pth", 33371472, 63.200,
                                       83.479, 40.697, 127.359)
    DEFAULT = KINETICS400_V1


class MC3_18_Weights(WeightsEnum):
    """Pretrained weights of ``mc3_18``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/mc3_18-a90a0ba3.pth", 11695440, 63.960,
                                       84.130, 43.343, 44.672)
    DEFAULT = KINETICS400_V1


class R2Plus1D_18_Weights(WeightsEnum):
    """Pretrained weights of ``r2plus1d_18``: the members' url, transforms and meta are torchvision's."""

    KINETICS400_V1 = _kinetics_weights("https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth", 31505325,
                                       67.463, 86.175, 40.519, 120.318)
    DEFAULT = KINETICS400_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", R3D_18_Weights.KINETICS400_V1))
def r3d_18(*, weights: Optional[R3D_18_Weights] = None, progress: bool = True, **kwargs):
    """18-layer ResNet3D: 3x3x3 convolutions throughout; ``kwargs`` go to :class:`VideoResNet`."""
    weights = R3D_18_Weights.verify(weights)
    return _video_resnet(BasicBlock, [Conv3DSimple] * 4, [2, 2, 2, 2], BasicStem, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", MC3_18_Weights.KINETICS400_V1))
def mc3_18(*, weights: Optional[MC3_18_Weights] = None, progress: bool = True, **kwargs):
    """18-layer Mixed Convolution network: 3x3x3 convolutions in the first stage, 1x3x3 after; ``kwargs`` go to
    :class:`VideoResNet`."""
    weights = MC3_18_Weights.verify(weights)
    return _video_resnet(BasicBlock, [Conv3DSimple] + [Conv3DNoTemporal] * 3, [2, 2, 2, 2], BasicStem, weights,
                         progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", R2Plus1D_18_Weights.KINETICS400_V1))
def r2plus1d_18(*, weights: Optional[R2Plus1D_18_Weights] = None, progress: bool = True, **kwargs):
    """18-layer R(2+1)D network: every 3-D convolution split into spatial and temporal ones; ``kwargs`` go to
    :class:`VideoResNet`."""
    weights = R2Plus1D_18_Weights.verify(weights)
    return _video_resnet(BasicBlock, [Conv2Plus1D] * 4, [2, 2, 2, 2], R2Plus1dStem, weights, progress, **kwargs)


# torchvision still keeps this pre-0.13 table for the video ResNets (reading it warns)
model_urls = _ModelURLs({
    "r3d_18": R3D_18_Weights.KINETICS400_V1.url,
    "mc3_18": MC3_18_Weights.KINETICS400_V1.url,
    "r2plus1d_18": R2Plus1D_18_Weights.KINETICS400_V1.url,
})
