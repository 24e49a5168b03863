"""Quantizable Inception v3 (``torchvision.models.quantization.inception``)."""
from functools import partial
from typing import Optional, Union

from .... import ao, nn
from ....nn import functional as F
from ...transforms._presets import ImageClassification
from .. import inception as inception_module
from .._api import Weights, WeightsEnum, register_model
from .._meta import _IMAGENET_CATEGORIES
from .._utils import _ovewrite_named_param, handle_legacy_interface
from ..inception import Inception_V3_Weights
from .utils import _backend_from_weights, _fuse_modules, _replace_relu, quantize_model

__all__ = ["QuantizableInception3", "Inception_V3_QuantizedWeights", "inception_v3"]


class QuantizableBasicConv2d(inception_module.BasicConv2d):
    """Conv-BN with its ReLU as a module (``relu``), fusable."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))

    def fuse_model(self, is_qat=None):
        """Fuses conv-bn-relu."""
        _fuse_modules(self, ["conv", "bn", "relu"], is_qat, inplace=True)


def _concatenating(base):
    """``base`` built with quantizable convs, its branches joined by a FloatFunctional (``myop``)."""
    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.myop = nn.quantized.FloatFunctional()

    def forward(self, x):
        return self.myop.cat(self._forward(x), 1)

    return type(f"Quantizable{base.__name__}", (base,), {
        "__init__": __init__, "forward": forward, "__module__": __name__,
        "__doc__": f"{base.__name__} with its concatenation through a FloatFunctional."})


QuantizableInceptionA = _concatenating(inception_module.InceptionA)
QuantizableInceptionB = _concatenating(inception_module.InceptionB)
QuantizableInceptionC = _concatenating(inception_module.InceptionC)
QuantizableInceptionD = _concatenating(inception_module.InceptionD)


class QuantizableInceptionE(inception_module.InceptionE):
    """InceptionE with its three concatenations through FloatFunctionals (``myop1``-``myop3``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)
        self.myop1 = nn.quantized.FloatFunctional()
        self.myop2 = nn.quantized.FloatFunctional()
        self.myop3 = nn.quantized.FloatFunctional()

    def _forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = self.myop1.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = self.myop2.cat([self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return [branch1x1, branch3x3, branch3x3dbl, branch_pool]

    def forward(self, x):
        return self.myop3.cat(self._forward(x), 1)


class QuantizableInceptionAux(inception_module.InceptionAux):
    """InceptionAux built with quantizable convs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, conv_block=QuantizableBasicConv2d, **kwargs)


class QuantizableInception3(inception_module.Inception3):
    """Inception v3 between a QuantStub (``quant``) and a DeQuantStub (``dequant``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, inception_blocks=[
            QuantizableBasicConv2d, QuantizableInceptionA, QuantizableInceptionB, QuantizableInceptionC,
            QuantizableInceptionD, QuantizableInceptionE, QuantizableInceptionAux], **kwargs)
        self.quant = ao.quantization.QuantStub()
        self.dequant = ao.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(self._transform_input(x))
        x, aux = self._forward(x)
        return self.eager_outputs(self.dequant(x), aux)

    def fuse_model(self, is_qat=None):
        """Fuses every conv-bn-relu in place."""
        for m in self.modules():
            if type(m) is QuantizableBasicConv2d:
                m.fuse_model(is_qat)


class Inception_V3_QuantizedWeights(WeightsEnum):
    IMAGENET1K_FBGEMM_V1 = Weights(
        url="https://download.pytorch.org/models/quantized/inception_v3_google_fbgemm-a2837893.pth",
        transforms=partial(ImageClassification, crop_size=299, resize_size=342),
        meta={"num_params": 27161264, "min_size": (75, 75), "categories": _IMAGENET_CATEGORIES, "backend": "fbgemm",
              "recipe": "https://github.com/pytorch/vision/tree/main/references/classification"
                        "#post-training-quantized-models",
              "unquantized": Inception_V3_Weights.IMAGENET1K_V1,
              "_metrics": {"ImageNet-1K": {"acc@1": 77.176, "acc@5": 93.354}}, "_ops": 5.713, "_file_size": 23.146,
              "_docs": """
                These weights were produced by doing Post Training Quantization (eager mode) on top of the unquantized
                weights listed below.
            """})
    DEFAULT = IMAGENET1K_FBGEMM_V1


@register_model(name="quantized_inception_v3")
@handle_legacy_interface(weights=("pretrained", lambda kwargs: Inception_V3_QuantizedWeights.IMAGENET1K_FBGEMM_V1
                                  if kwargs.get("quantize", False) else Inception_V3_Weights.IMAGENET1K_V1))
def inception_v3(*, weights: Optional[Union[Inception_V3_QuantizedWeights, Inception_V3_Weights]] = None,
                 progress=True, quantize=False, **kwargs):
    """Quantizable Inception v3; ``quantize=True`` returns it quantized."""
    weights = (Inception_V3_QuantizedWeights if quantize else Inception_V3_Weights).verify(weights)
    original_aux_logits = kwargs.get("aux_logits", False)
    if weights is not None:
        if "transform_input" not in kwargs:
            _ovewrite_named_param(kwargs, "transform_input", True)
        _ovewrite_named_param(kwargs, "aux_logits", True)
    backend = _backend_from_weights(weights, kwargs, "fbgemm")
    model = QuantizableInception3(**kwargs)
    _replace_relu(model)
    if quantize:
        quantize_model(model, backend)
    if weights is not None:
        if quantize and not original_aux_logits:
            model.aux_logits = False
            model.AuxLogits = None
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        if not quantize and not original_aux_logits:
            model.aux_logits = False
            model.AuxLogits = None
    return model
