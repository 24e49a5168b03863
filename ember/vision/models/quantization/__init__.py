"""Quantizable classification models (``torchvision.models.quantization``): the float architectures with
QuantStub/DeQuantStub, FloatFunctional additions and ``fuse_model``; ``quantize=True`` returns them quantized."""
from .googlenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .mobilenetv3 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .shufflenetv2 import *  # noqa: F401,F403
from . import googlenet, inception, mobilenetv2, mobilenetv3, resnet, shufflenetv2, utils  # noqa: F401
