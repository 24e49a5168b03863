"""``ember.vision.transforms.v2``: torchvision's v2 transforms. A transform takes any structure of inputs and moves
images (plain tensors, PIL images, ``tv_tensors.Image``), videos, masks and boxes jointly, with parameters drawn once
per call; other inputs pass through. Image kernels are v1's."""
from . import functional  # noqa: F401
from ._transform import Transform  # noqa: F401
from ._augment import JPEG, CutMix, MixUp, RandomErasing  # noqa: F401
from ._auto_augment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide  # noqa: F401
from ._color import *  # noqa: F401,F403
from ._container import Compose, RandomApply, RandomChoice, RandomOrder  # noqa: F401
from ._geometry import *  # noqa: F401,F403
from ._meta import ClampBoundingBoxes, ClampKeyPoints, ConvertBoundingBoxFormat, SetClampingMode  # noqa: F401
from ._temporal import UniformTemporalSubsample  # noqa: F401
from ._misc import *  # noqa: F401,F403
from ._type_conversion import PILToTensor, ToImage, ToPILImage, ToPureTensor, ToTensor  # noqa: F401
from ._utils import check_type, get_bounding_boxes, get_keypoints, has_all, has_any, query_chw, query_size  # noqa: F401
from .functional import InterpolationMode  # noqa: F401
