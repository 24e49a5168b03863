"""``transforms.v2.functional``: each functional dispatches on its input (pure tensor, PIL image, Image, Video,
Mask, BoundingBoxes) to a kernel; images go through the v1 kernels. The per-type kernels keep torchvision's names."""
from ...functional import InterpolationMode  # noqa: F401
from ._augment import *  # noqa: F401,F403
from ._color import *  # noqa: F401,F403
from ._geometry import *  # noqa: F401,F403
from ._kernels import *  # noqa: F401,F403
from ._keypoints import *  # noqa: F401,F403
from ._meta import clamp_bounding_boxes, convert_bounding_box_format, get_dimensions, get_num_channels, get_size  # noqa: F401
from ._misc import *  # noqa: F401,F403
from ._type_conversion import *  # noqa: F401,F403
from ._utils import is_pure_tensor, register_kernel  # noqa: F401
