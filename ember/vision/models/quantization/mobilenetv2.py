"""Quantizable MobileNetV2 (``torchvision.models.quantization.mobilenetv2``)."""
from functools import partial
from typing import Optional, Union

from .... import nn
from ....ao.quantization import DeQuantStub, QuantStub
from ...ops.misc import Conv2dNormActivation
from ...transforms._presets import ImageClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import handle_legacy_interface
from ..mobilenetv2 import InvertedResidual, MobileNet_V2_Weights, MobileNetV2
from .utils import _backend_from_weights, _fuse_modules, _quantize_and_load

__all__ = ["QuantizableMobileNetV2", "MobileNet_V2_QuantizedWeights", "mobilenet_v2"]


class QuantizableInvertedResidual(InvertedResidual):
    """InvertedResidual whose residual addition is a FloatFunctional (``skip_add``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_add = nn.quantized.FloatFunctional()

    def forward(self, x):
        if self.use_res_connect:
            return self.skip_add.add(x, self.conv(x))
        return self.conv(x)

    def fuse_model(self, is_qat=None):
        """Fuses each conv with the batch norm after it."""
        for idx in range(len(self.conv)):
            if type(self.conv[idx]) is nn.Conv2d:
                _fuse_modules(self.conv, [str(idx), str(idx + 1)], is_qat, inplace=True)


class QuantizableMobileNetV2(MobileNetV2):
    """MobileNetV2 between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quant = QuantStub()
        self.dequant = DeQuantStub()

    def forward(self, x):
        return self.dequant(self._forward_impl(self.quant(x)))

    def fuse_model(self, is_qat=None):
        """Fuses the conv-bn-relu blocks and the blocks' conv-bn pairs in place."""
        for m in self.modules():
            if type(m) is Conv2dNormActivation:
                _fuse_modules(m, ["0", "1", "2"], is_qat, inplace=True)
            if type(m) is QuantizableInvertedResidual:
                m.fuse_model(is_qat)


class MobileNet_V2_QuantizedWeights(WeightsEnum):
    IMAGENET1K_QNNPACK_V1 = Weights(
        url="https://download.pytorch.org/models/quantized/mobilenet_v2_qnnpack_37f702c5.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={"num_params": 3504872, "min_size": (1, 1), "categories": _IMAGENET_CATEGORIES, "backend": "qnnpack",
              "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#qat-mobilenetv2",
              "unquantized": MobileNet_V2_Weights.IMAGENET1K_V1,
              "_metrics": {"ImageNet-1K": {"acc@1": 71.658, "acc@5": 90.150}}, "_ops": 0.301, "_file_size": 3.423,
              "_docs": """
                These weights were produced by doing Quantization Aware Training (eager mode) on top of the unquantized
                weights listed below.
            """})
    DEFAULT = IMAGENET1K_QNNPACK_V1


@register_model(name="quantized_mobilenet_v2")
@handle_legacy_interface(weights=("pretrained", lambda kwargs: MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1
                                  if kwargs.get("quantize", False) else MobileNet_V2_Weights.IMAGENET1K_V1))
def mobilenet_v2(*, weights: Optional[Union[MobileNet_V2_QuantizedWeights, MobileNet_V2_Weights]] = None,
                 progress=True, quantize=False, **kwargs):
    """Quantizable MobileNetV2; ``quantize=True`` returns it quantized (qnnpack qconfig)."""
    weights = (MobileNet_V2_QuantizedWeights if quantize else MobileNet_V2_Weights).verify(weights)
    backend = _backend_from_weights(weights, kwargs, "qnnpack")
    model = QuantizableMobileNetV2(block=QuantizableInvertedResidual, **kwargs)
    return _quantize_and_load(model, backend, quantize, weights, progress)
