"""Model architectures with torchvision's names, signatures, layer order and initialisation, so
``model.state_dict()`` keys and shapes match torchvision's and torchvision checkpoints load.

``weights=`` takes torchvision's weights enums (``resnet18(weights=ResNet18_Weights.DEFAULT)``, or a member's name):
the checkpoint is downloaded from torchvision's URL into the hub cache through ``ember.hub.load_state_dict_from_url``
with its hash checked, and ``weights.transforms()`` is the evaluation preprocessing it expects."""
from .alexnet import *  # noqa: F401,F403
from .convnext import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .efficientnet import *  # noqa: F401,F403
from .googlenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .maxvit import *  # noqa: F401,F403
from .mnasnet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .mobilenetv3 import *  # noqa: F401,F403
from .regnet import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .shufflenetv2 import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .swin_transformer import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .vision_transformer import *  # noqa: F401,F403
from . import detection, lenet, mobilenetv2, optical_flow, quantization, resnet, segmentation, vgg, video  # noqa: F401,E501
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models  # noqa: F401,E501
