"""Semantic segmentation models with torchvision's names and layouts: FCN, DeepLabV3 and LR-ASPP over ResNet and
MobileNetV3 backbones. Each returns an OrderedDict whose ``"out"`` holds per-pixel class scores at the input's size
(and ``"aux"`` the auxiliary head's, when built with ``aux_loss=True``)."""
from .deeplabv3 import *  # noqa: F401,F403
from .fcn import *  # noqa: F401,F403
from .lraspp import *  # noqa: F401,F403
