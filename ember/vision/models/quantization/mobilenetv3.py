"""Quantizable MobileNetV3 (``torchvision.models.quantization.mobilenetv3``): ``quantize=True`` prepares the model
for QAT, loads the QAT weights, then converts it, as torchvision does."""
from functools import partial
from typing import Optional, Union

from .... import ao, nn, tensor, int32
from ....ao.quantization import DeQuantStub, QuantStub
from ...ops.misc import Conv2dNormActivation, SqueezeExcitation
from ...transforms._presets import ImageClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import handle_legacy_interface
from ..mobilenetv3 import InvertedResidual, MobileNet_V3_Large_Weights, MobileNetV3, _mobilenet_v3_conf
from .utils import _backend_from_weights, _fuse_modules, _replace_relu

__all__ = ["QuantizableMobileNetV3", "MobileNet_V3_Large_QuantizedWeights", "mobilenet_v3_large"]


class QuantizableSqueezeExcitation(SqueezeExcitation):
    """Squeeze-excitation with a Hardsigmoid gate applied through a FloatFunctional multiplication."""

    _version = 2

    def __init__(self, *args, **kwargs):
        kwargs["scale_activation"] = nn.Hardsigmoid
        super().__init__(*args, **kwargs)
        self.skip_mul = nn.quantized.FloatFunctional()

    def forward(self, input):
        return self.skip_mul.mul(self._scale(input), input)

    def fuse_model(self, is_qat=None):
        """Fuses fc1 with its ReLU."""
        _fuse_modules(self, ["fc1", "activation"], is_qat, inplace=True)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version")
        if hasattr(self, "qconfig") and (version is None or version < 2):
            default_state_dict = {
                "scale_activation.activation_post_process.scale": tensor([1.0]),
                "scale_activation.activation_post_process.activation_post_process.scale": tensor([1.0]),
                "scale_activation.activation_post_process.zero_point": tensor([0], dtype=int32),
                "scale_activation.activation_post_process.activation_post_process.zero_point": tensor([0],
                                                                                                       dtype=int32),
                "scale_activation.activation_post_process.fake_quant_enabled": tensor([1]),
                "scale_activation.activation_post_process.observer_enabled": tensor([1]),
            }
            for k, v in default_state_dict.items():
                state_dict.setdefault(prefix + k, v)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class QuantizableInvertedResidual(InvertedResidual):
    """InvertedResidual with the quantizable squeeze-excitation and its addition through a FloatFunctional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, se_layer=QuantizableSqueezeExcitation, **kwargs)
        self.skip_add = nn.quantized.FloatFunctional()

    def forward(self, x):
        if self.use_res_connect:
            return self.skip_add.add(x, self.block(x))
        return self.block(x)


class QuantizableMobileNetV3(MobileNetV3):
    """MobileNetV3 between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quant = QuantStub()
        self.dequant = DeQuantStub()

    def forward(self, x):
        return self.dequant(self._forward_impl(self.quant(x)))

    def fuse_model(self, is_qat=None):
        """Fuses conv-bn(-relu) blocks and the squeeze-excitations' fc1-relu in place."""
        for m in self.modules():
            if type(m) is Conv2dNormActivation:
                modules_to_fuse = ["0", "1"]
                if len(m) == 3 and type(m[2]) is nn.ReLU:
                    modules_to_fuse.append("2")
                _fuse_modules(m, modules_to_fuse, is_qat, inplace=True)
            elif type(m) is QuantizableSqueezeExcitation:
                m.fuse_model(is_qat)


def _mobilenet_v3_model(inverted_residual_setting, last_channel, weights, progress, quantize, **kwargs):
    backend = _backend_from_weights(weights, kwargs, "qnnpack")
    model = QuantizableMobileNetV3(inverted_residual_setting, last_channel, block=QuantizableInvertedResidual,
                                   **kwargs)
    _replace_relu(model)
    if quantize:   # torchvision loads QAT weights into the prepared model, then converts it
        model.fuse_model(is_qat=True)
        model.qconfig = ao.quantization.get_default_qat_qconfig(backend)
        ao.quantization.prepare_qat(model, inplace=True)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    if quantize:
        ao.quantization.convert(model, inplace=True)
        model.eval()
    return model


class MobileNet_V3_Large_QuantizedWeights(WeightsEnum):
    IMAGENET1K_QNNPACK_V1 = Weights(
        url="https://download.pytorch.org/models/quantized/mobilenet_v3_large_qnnpack-5bcacf28.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={"num_params": 5483032, "min_size": (1, 1), "categories": _IMAGENET_CATEGORIES, "backend": "qnnpack",
              "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#qat-mobilenetv3",
              "unquantized": MobileNet_V3_Large_Weights.IMAGENET1K_V1,
              "_metrics": {"ImageNet-1K": {"acc@1": 73.004, "acc@5": 90.858}}, "_ops": 0.217, "_file_size": 21.554,
              "_docs": """
                These weights were produced by doing Quantization Aware Training (eager mode) on top of the unquantized
                weights listed below.
            """})
    DEFAULT = IMAGENET1K_QNNPACK_V1


@register_model(name="quantized_mobilenet_v3_large")
@handle_legacy_interface(weights=("pretrained", lambda kwargs: MobileNet_V3_Large_QuantizedWeights.IMAGENET1K_QNNPACK_V1
                                  if kwargs.get("quantize", False) else MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def mobilenet_v3_large(*, weights: Optional[Union[MobileNet_V3_Large_QuantizedWeights,
                                                  MobileNet_V3_Large_Weights]] = None,
                       progress=True, quantize=False, **kwargs):
    """Quantizable MobileNetV3-Large; ``quantize=True`` returns it quantized."""
    weights = (MobileNet_V3_Large_QuantizedWeights if quantize else MobileNet_V3_Large_Weights).verify(weights)
    inverted_residual_setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", **kwargs)
    return _mobilenet_v3_model(inverted_residual_setting, last_channel, weights, progress, quantize, **kwargs)
