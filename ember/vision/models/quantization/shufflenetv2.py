"""Quantizable ShuffleNetV2 (``torchvision.models.quantization.shufflenetv2``): branch concatenations through a
FloatFunctional ``cat``, QuantStub/DeQuantStub and ``fuse_model``."""
from functools import partial
from typing import Optional, Union

from .... import ao, nn
from ...transforms._presets import ImageClassification
from .. import shufflenetv2
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import handle_legacy_interface
from ..shufflenetv2 import (ShuffleNet_V2_X0_5_Weights, ShuffleNet_V2_X1_0_Weights, ShuffleNet_V2_X1_5_Weights,
                            ShuffleNet_V2_X2_0_Weights)
from .utils import _backend_from_weights, _fuse_modules, _quantize_and_load

__all__ = ["QuantizableShuffleNetV2", "ShuffleNet_V2_X0_5_QuantizedWeights", "ShuffleNet_V2_X1_0_QuantizedWeights",
           "ShuffleNet_V2_X1_5_QuantizedWeights", "ShuffleNet_V2_X2_0_QuantizedWeights", "shufflenet_v2_x0_5",
           "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]


class QuantizableInvertedResidual(shufflenetv2.InvertedResidual):
    """ShuffleNet unit whose branch concatenation is a FloatFunctional (``cat``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cat = nn.quantized.FloatFunctional()

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = self.cat.cat([x1, self.branch2(x2)], dim=1)
        else:
            out = self.cat.cat([self.branch1(x), self.branch2(x)], dim=1)
        return shufflenetv2.channel_shuffle(out, 2)


class QuantizableShuffleNetV2(shufflenetv2.ShuffleNetV2):
    """ShuffleNetV2 between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, inverted_residual=QuantizableInvertedResidual, **kwargs)
        self.quant = ao.quantization.QuantStub()
        self.dequant = ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self._forward_impl(self.quant(x)))

    def fuse_model(self, is_qat=None):
        """Fuses conv/bn/relu groups in place."""
        for name, m in self._modules.items():
            if name in ["conv1", "conv5"] and m is not None:
                _fuse_modules(m, [["0", "1", "2"]], is_qat, inplace=True)
        for m in self.modules():
            if type(m) is QuantizableInvertedResidual:
                if len(m.branch1._modules.items()) > 0:
                    _fuse_modules(m.branch1, [["0", "1"], ["2", "3", "4"]], is_qat, inplace=True)
                _fuse_modules(m.branch2, [["0", "1", "2"], ["3", "4"], ["5", "6", "7"]], is_qat, inplace=True)


def _shufflenetv2(stages_repeats, stages_out_channels, *, weights, progress, quantize, **kwargs):
    backend = _backend_from_weights(weights, kwargs, "fbgemm")
    model = QuantizableShuffleNetV2(stages_repeats, stages_out_channels, **kwargs)
    return _quantize_and_load(model, backend, quantize, weights, progress)


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
        **_COMMON_META, **meta, "num_params": num_params, "unquantized": unquantized,
        "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}}, "_ops": ops, "_file_size": file_size})


class ShuffleNet_V2_X0_5_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/shufflenetv2_x0.5_fbgemm-00845098.pth", 1366792,
        ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1, 57.972, 79.780, 0.04, 1.501)
    DEFAULT = IMAGENET1K_FBGEMM_V1


class ShuffleNet_V2_X1_0_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/shufflenetv2_x1_fbgemm-1e62bb32.pth", 2278604,
        ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1, 68.360, 87.582, 0.145, 2.334)
    DEFAULT = IMAGENET1K_FBGEMM_V1


class ShuffleNet_V2_X1_5_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/shufflenetv2_x1_5_fbgemm-d7401f05.pth", 3503624,
        ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1, 72.052, 90.700, 0.296, 3.672, 232,
        recipe="https://github.com/pytorch/vision/pull/5906")
    DEFAULT = IMAGENET1K_FBGEMM_V1


class ShuffleNet_V2_X2_0_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = _weights(
        "https://download.pytorch.org/models/quantized/shufflenetv2_x2_0_fbgemm-5cac526c.pth", 7393996,
        ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1, 75.354, 92.488, 0.583, 7.467, 232,
        recipe="https://github.com/pytorch/vision/pull/5906")
    DEFAULT = IMAGENET1K_FBGEMM_V1


def _builder(name, repeats, channels, quantized_weights, float_weights):
    def builder(*, weights=None, progress=True, quantize=False, **kwargs):
        weights = (quantized_weights if quantize else float_weights).verify(weights)
        return _shufflenetv2(repeats, channels, weights=weights, progress=progress, quantize=quantize, **kwargs)
    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"Quantizable ShuffleNetV2 {name[-4:]}; ``quantize=True`` returns it quantized."
    # get_model_weights reads the enum from this annotation, as torchvision's
    builder.__annotations__["weights"] = Optional[Union[quantized_weights, float_weights]]
    legacy = handle_legacy_interface(weights=("pretrained", lambda kwargs: quantized_weights.IMAGENET1K_FBGEMM_V1
                                              if kwargs.get("quantize", False) else float_weights.IMAGENET1K_V1))
    return register_model(name=f"quantized_{name}")(legacy(builder))


shufflenet_v2_x0_5 = _builder("shufflenet_v2_x0_5", [4, 8, 4], [24, 48, 96, 192, 1024],
                              ShuffleNet_V2_X0_5_QuantizedWeights, ShuffleNet_V2_X0_5_Weights)
shufflenet_v2_x1_0 = _builder("shufflenet_v2_x1_0", [4, 8, 4], [24, 116, 232, 464, 1024],
                              ShuffleNet_V2_X1_0_QuantizedWeights, ShuffleNet_V2_X1_0_Weights)
shufflenet_v2_x1_5 = _builder("shufflenet_v2_x1_5", [4, 8, 4], [24, 176, 352, 704, 1024],
                              ShuffleNet_V2_X1_5_QuantizedWeights, ShuffleNet_V2_X1_5_Weights)
shufflenet_v2_x2_0 = _builder("shufflenet_v2_x2_0", [4, 8, 4], [24, 244, 488, 976, 2048],
                              ShuffleNet_V2_X2_0_QuantizedWeights, ShuffleNet_V2_X2_0_Weights)
