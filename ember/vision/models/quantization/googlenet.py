"""Quantizable GoogLeNet (``torchvision.models.quantization.googlenet``)."""
import warnings
from functools import partial
from typing import Optional, Union

from .... import ao, flatten, nn
from ....nn import functional as F
from ...transforms._presets import ImageClassification
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import _ovewrite_named_param, handle_legacy_interface
from ..googlenet import BasicConv2d, GoogLeNet, GoogLeNet_Weights, Inception, InceptionAux
from .utils import _backend_from_weights, _fuse_modules, _quantize_and_load

__all__ = ["QuantizableGoogLeNet", "GoogLeNet_QuantizedWeights", "googlenet"]


class QuantizableBasicConv2d(BasicConv2d):
    """Conv-BN with its ReLU as a module (``relu``), fusable."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))

    def fuse_model(self, is_qat=None):
        """Fuses conv-bn-relu."""
        _fuse_modules(self, ["conv", "bn", "relu"], is_qat, inplace=True)


class QuantizableInception(Inception):
    """Inception block whose branch concatenation is a FloatFunctional (``cat``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.cat = nn.quantized.FloatFunctional()

    def forward(self, x):
        return self.cat.cat(self._forward(x), 1)


class QuantizableInceptionAux(InceptionAux):
    """Auxiliary head with its ReLU as a module."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = self.relu(self.fc1(flatten(x, 1)))
        return self.fc2(self.dropout(x))


class QuantizableGoogLeNet(GoogLeNet):
    """GoogLeNet between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, blocks=[QuantizableBasicConv2d, QuantizableInception, QuantizableInceptionAux],
                         **kwargs)
        self.quant = ao.quantization.QuantStub()
        self.dequant = ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(self._transform_input(x))
        x, aux1, aux2 = self._forward(x)
        return self.eager_outputs(self.dequant(x), aux2, aux1)

    def fuse_model(self, is_qat=None):
        """Fuses every conv-bn-relu in place."""
        for m in self.modules():
            if type(m) is QuantizableBasicConv2d:
                m.fuse_model(is_qat)


class GoogLeNet_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = Weights(
        url="https://download.pytorch.org/models/quantized/googlenet_fbgemm-c81f6644.pth",
        transforms=partial(ImageClassification, crop_size=224),
        meta={"num_params": 6624904, "min_size": (15, 15), "categories": _IMAGENET_CATEGORIES, "backend": "fbgemm",
              "recipe": "https://github.com/pytorch/vision/tree/main/references/classification"
                        "#post-training-quantized-models",
              "unquantized": GoogLeNet_Weights.IMAGENET1K_V1,
              "_metrics": {"ImageNet-1K": {"acc@1": 69.826, "acc@5": 89.404}}, "_ops": 1.498, "_file_size": 12.618,
              "_docs": """
                These weights were produced by doing Post Training Quantization (eager mode) on top of the unquantized
                weights listed below.
            """})
    DEFAULT = IMAGENET1K_FBGEMM_V1


@register_model(name="quantized_googlenet")
@handle_legacy_interface(weights=("pretrained", lambda kwargs: GoogLeNet_QuantizedWeights.IMAGENET1K_FBGEMM_V1
                                  if kwargs.get("quantize", False) else GoogLeNet_Weights.IMAGENET1K_V1))
def googlenet(*, weights: Optional[Union[GoogLeNet_QuantizedWeights, GoogLeNet_Weights]] = None,
              progress=True, quantize=False, **kwargs):
    """Quantizable GoogLeNet; ``quantize=True`` returns it quantized."""
    weights = (GoogLeNet_QuantizedWeights if quantize else GoogLeNet_Weights).verify(weights)
    original_aux_logits = kwargs.get("aux_logits", False)
    if weights is not None:
        if "transform_input" not in kwargs:
            _ovewrite_named_param(kwargs, "transform_input", True)
        _ovewrite_named_param(kwargs, "aux_logits", True)
        _ovewrite_named_param(kwargs, "init_weights", False)
    backend = _backend_from_weights(weights, kwargs, "fbgemm")
    model = _quantize_and_load(QuantizableGoogLeNet(**kwargs), backend, quantize, weights, progress)
    if weights is not None:
        if not original_aux_logits:
            model.aux_logits = False
            model.aux1 = None
            model.aux2 = None
        else:
            warnings.warn("auxiliary heads in the pretrained googlenet model are NOT pretrained, so make sure to "
                          "train them")
    return model
