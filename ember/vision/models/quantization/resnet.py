"""Quantizable ResNets (``torchvision.models.quantization.resnet``): the float ResNet with QuantStub/DeQuantStub,
residual additions through FloatFunctional and ``fuse_model``; ``quantize=True`` returns the quantized model."""
from functools import partial
from typing import Optional, Union

from .... import ao, nn
from ...transforms._presets import ImageClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import _ovewrite_named_param, handle_legacy_interface
from ..resnet import (BasicBlock, Bottleneck, ResNet, ResNet18_Weights, ResNet50_Weights, ResNeXt101_32X8D_Weights,
                      ResNeXt101_64X4D_Weights)
from .utils import _backend_from_weights, _fuse_modules, _quantize_and_load

__all__ = ["QuantizableResNet", "ResNet18_QuantizedWeights", "ResNet50_QuantizedWeights",
           "ResNeXt101_32X8D_QuantizedWeights", "ResNeXt101_64X4D_QuantizedWeights", "resnet18", "resnet50",
           "resnext101_32x8d", "resnext101_64x4d"]


class QuantizableBasicBlock(BasicBlock):
    """BasicBlock whose residual add-and-ReLU is a FloatFunctional (``add_relu``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_relu = nn.quantized.FloatFunctional()

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.add_relu.add_relu(out, identity)

    def fuse_model(self, is_qat=None):
        """Fuses conv1-bn1-relu, conv2-bn2 and the downsampling conv-bn."""
        _fuse_modules(self, [["conv1", "bn1", "relu"], ["conv2", "bn2"]], is_qat, inplace=True)
        if self.downsample:
            _fuse_modules(self.downsample, ["0", "1"], is_qat, inplace=True)


class QuantizableBottleneck(Bottleneck):
    """Bottleneck with separate ReLUs and its residual add-and-ReLU through a FloatFunctional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_add_relu = nn.quantized.FloatFunctional()
        self.relu1 = nn.ReLU(inplace=False)
        self.relu2 = nn.ReLU(inplace=False)

    def forward(self, x):
        identity = x
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.skip_add_relu.add_relu(out, identity)

    def fuse_model(self, is_qat=None):
        """Fuses the three conv-bn(-relu) groups and the downsampling conv-bn."""
        _fuse_modules(self, [["conv1", "bn1", "relu1"], ["conv2", "bn2", "relu2"], ["conv3", "bn3"]], is_qat,
                      inplace=True)
        if self.downsample:
            _fuse_modules(self.downsample, ["0", "1"], is_qat, inplace=True)


class QuantizableResNet(ResNet):
    """ResNet between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quant = ao.quantization.QuantStub()
        self.dequant = ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self._forward_impl(self.quant(x)))

    def fuse_model(self, is_qat=None):
        """Fuses conv/bn/relu groups in place (PTQ folding, or QAT sequences when training or ``is_qat``)."""
        _fuse_modules(self, ["conv1", "bn1", "relu"], is_qat, inplace=True)
        for m in self.modules():
            if type(m) is QuantizableBottleneck or type(m) is QuantizableBasicBlock:
                m.fuse_model(is_qat)


def _resnet(block, layers, weights, progress, quantize, **kwargs):
    backend = _backend_from_weights(weights, kwargs, "fbgemm")
    return _quantize_and_load(QuantizableResNet(block, layers, **kwargs), backend, quantize, weights, progress)


_COMMON_META = {
    "min_size": (1, 1),
    "categories": _IMAGENET_CATEGORIES,
    "backend": "fbgemm",
    "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#post-training-quantized-models",
    "_docs": """
        These weights were produced by doing Post Training Quantization (eager mode) on top of the unquantized
        weights listed below.
    """,
}


def _weights(url, num_params, unquantized, acc1, acc5, ops, file_size, resize_size=None, **meta):
    transforms = partial(ImageClassification, crop_size=224) if resize_size is None else \
        partial(ImageClassification, crop_size=224, resize_size=resize_size)
    return Weights(url=url, transforms=transforms, meta={
        **_COMMON_META, "num_params": num_params, **meta, "unquantized": unquantized,
        "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}}, "_ops": ops, "_file_size": file_size})


class ResNet18_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights("https://download.pytorch.org/models/quantized/resnet18_fbgemm_16fa66dd.pth",
                                    11689512, ResNet18_Weights.IMAGENET1K_V1, 69.494, 88.882, 1.814, 11.238)
    DEFAULT = IMAGENET1K_FBGEMM_V1


class ResNet50_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights("https://download.pytorch.org/models/quantized/resnet50_fbgemm_bf931d71.pth",
                                    25557032, ResNet50_Weights.IMAGENET1K_V1, 75.920, 92.814, 4.089, 24.759)
    IMAGENET1K_FBGEMM_V2 = _weights("https://download.pytorch.org/models/quantized/resnet50_fbgemm-23753f79.pth",
                                    25557032, ResNet50_Weights.IMAGENET1K_V2, 80.282, 94.976, 4.089, 24.953, 232)
    DEFAULT = IMAGENET1K_FBGEMM_V2


class ResNeXt101_32X8D_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/resnext101_32x8_fbgemm_09835ccf.pth", 88791336,
        ResNeXt101_32X8D_Weights.IMAGENET1K_V1, 78.986, 94.480, 16.414, 86.034)
    IMAGENET1K_FBGEMM_V2 = _weights(
        "https://download.pytorch.org/models/quantized/resnext101_32x8_fbgemm-ee16d00c.pth", 88791336,
        ResNeXt101_32X8D_Weights.IMAGENET1K_V2, 82.574, 96.132, 16.414, 86.645, 232)
    DEFAULT = IMAGENET1K_FBGEMM_V2


class ResNeXt101_64X4D_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/resnext101_64x4d_fbgemm-605a1cb3.pth", 83455272,
        ResNeXt101_64X4D_Weights.IMAGENET1K_V1, 82.898, 96.326, 15.46, 81.556, 232,
        recipe="https://github.com/pytorch/vision/pull/5935")
    DEFAULT = IMAGENET1K_FBGEMM_V1


def _legacy(quantized, unquantized):
    return ("pretrained", lambda kwargs: quantized if kwargs.get("quantize", False) else unquantized)


@register_model(name="quantized_resnet18")
@handle_legacy_interface(weights=_legacy(ResNet18_QuantizedWeights.IMAGENET1K_FBGEMM_V1,
                                         ResNet18_Weights.IMAGENET1K_V1))
def resnet18(*, weights: Optional[Union[ResNet18_QuantizedWeights, ResNet18_Weights]] = None,
             progress=True, quantize=False, **kwargs):
    """Quantizable ResNet-18; ``quantize=True`` returns it quantized (8-bit weights, CPU inference)."""
    weights = (ResNet18_QuantizedWeights if quantize else ResNet18_Weights).verify(weights)
    return _resnet(QuantizableBasicBlock, [2, 2, 2, 2], weights, progress, quantize, **kwargs)


@register_model(name="quantized_resnet50")
@handle_legacy_interface(weights=_legacy(ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1,
                                         ResNet50_Weights.IMAGENET1K_V1))
def resnet50(*, weights: Optional[Union[ResNet50_QuantizedWeights, ResNet50_Weights]] = None,
             progress=True, quantize=False, **kwargs):
    """Quantizable ResNet-50; ``quantize=True`` returns it quantized."""
    weights = (ResNet50_QuantizedWeights if quantize else ResNet50_Weights).verify(weights)
    return _resnet(QuantizableBottleneck, [3, 4, 6, 3], weights, progress, quantize, **kwargs)


@register_model(name="quantized_resnext101_32x8d")
@handle_legacy_interface(weights=_legacy(ResNeXt101_32X8D_QuantizedWeights.IMAGENET1K_FBGEMM_V1,
                                         ResNeXt101_32X8D_Weights.IMAGENET1K_V1))
def resnext101_32x8d(*, weights: Optional[Union[ResNeXt101_32X8D_QuantizedWeights, ResNeXt101_32X8D_Weights]] = None,
                     progress=True, quantize=False, **kwargs):
    """Quantizable ResNeXt-101 32x8d; ``quantize=True`` returns it quantized."""
    weights = (ResNeXt101_32X8D_QuantizedWeights if quantize else ResNeXt101_32X8D_Weights).verify(weights)
    _ovewrite_named_param(kwargs, "groups", 32)
    _ovewrite_named_param(kwargs, "width_per_group", 8)
    return _resnet(QuantizableBottleneck, [3, 4, 23, 3], weights, progress, quantize, **kwargs)


@register_model(name="quantized_resnext101_64x4d")
@handle_legacy_interface(weights=_legacy(ResNeXt101_64X4D_QuantizedWeights.IMAGENET1K_FBGEMM_V1,
                                         ResNeXt101_64X4D_Weights.IMAGENET1K_V1))
def resnext101_64x4d(*, weights: Optional[Union[ResNeXt101_64X4D_QuantizedWeights, ResNeXt101_64X4D_Weights]] = None,
                     progress=True, quantize=False, **kwargs):
    """Quantizable ResNeXt-101 64x4d; ``quantize=True`` returns it quantized."""
    weights = (ResNeXt101_64X4D_QuantizedWeights if quantize else ResNeXt101_64X4D_Weights).verify(weights)
    _ovewrite_named_param(kwargs, "groups", 64)
    _ovewrite_named_param(kwargs, "width_per_group", 4)
    return _resnet(QuantizableBottleneck, [3, 4, 23, 3], weights, progress, quantize, **kwargs)
