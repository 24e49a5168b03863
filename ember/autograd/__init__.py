"""Reverse-mode automatic differentiation: the graph, the backward engine, grad-mode switches and gradient checks."""
from . import anomaly_mode, engine, function, grad_mode  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import _is_checkpoint_valid, backward, grad  # noqa: F401
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402  (the function shadows the module, as in PyTorch)
from . import forward_ad, functional, graph  # noqa: E402
from .variable import Variable  # noqa: E402, F401

__all__ = ["Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "detect_anomaly", "set_detect_anomaly", "once_differentiable", "gradcheck", "gradgradcheck", "functional",
           "graph", "forward_ad"]
