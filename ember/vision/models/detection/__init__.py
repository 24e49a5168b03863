"""torchvision's detection models: Faster R-CNN, Mask R-CNN, Keypoint R-CNN, RetinaNet and FCOS over ResNet-50
and MobileNetV3 FPN backbones, SSD300 on VGG-16 and SSDlite on MobileNetV3, and their parts (anchors, RPN, RoI
heads, the transform, backbones) in torchvision's module layout and state-dict names, so torchvision's detection
checkpoints load."""
from .faster_rcnn import *  # noqa: F401,F403
from .fcos import *  # noqa: F401,F403
from .keypoint_rcnn import *  # noqa: F401,F403
from .mask_rcnn import *  # noqa: F401,F403
from .retinanet import *  # noqa: F401,F403
from .ssd import *  # noqa: F401,F403
from .ssdlite import *  # noqa: F401,F403
