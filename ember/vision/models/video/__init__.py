"""Video classification models with torchvision's names and layouts (clips ``(N, C, T, H, W)``, Kinetics-400
weights): the 18-layer video ResNets (R3D, MC3, R(2+1)D), S3D, the multiscale vision transformers (MViT) and the
Video Swin Transformers."""
from .mvit import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .s3d import *  # noqa: F401,F403
from .swin_transformer import *  # noqa: F401,F403
