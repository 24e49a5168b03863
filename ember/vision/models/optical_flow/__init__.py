"""Optical flow models with torchvision's names and layouts: RAFT (large and small), which return the flow predicted
at every refinement step, each ``(N, 2, H, W)``."""
from .raft import *  # noqa: F401,F403
