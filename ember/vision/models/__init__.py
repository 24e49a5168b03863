"""Model architectures with torchvision's names, signatures, layer order and initialisation, so
``model.state_dict()`` keys and shapes match torchvision's and torchvision checkpoints load.

Nothing is downloaded: every builder takes ``weights=None`` (and raises ValueError for anything else). To use
pretrained weights, build the model and load a checkpoint file yourself::

    model = ember.vision.models.resnet18()
    model.load_state_dict(ember.load("resnet18-f37072fd.pth"))
"""
from ._utils import get_model, get_model_builder, list_models  # noqa: F401
from .lenet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from . import lenet, mobilenetv2, resnet, vgg  # noqa: F401
