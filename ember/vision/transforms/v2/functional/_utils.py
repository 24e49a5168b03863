"""The kernel registry: each v2 functional dispatches on its input's type (pure tensor, PIL image, TVTensor)."""
import functools
import sys

import ember

from .... import tv_tensors
from ....tv_tensors import BoundingBoxes, TVTensor, wrap

_KERNEL_REGISTRY = {}
PIL_IMAGE = "PIL.Image.Image"
"""The registry's key for PIL images (a name, so that registering kernels never imports Pillow)."""


def is_pure_tensor(inpt):
    """True for a tensor that is not a TVTensor."""
    return isinstance(inpt, ember.Tensor) and not isinstance(inpt, TVTensor)


def is_pil_image(inpt):
    """True for a PIL image (without importing Pillow)."""
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(inpt, pil.Image)


def _unwrapped(kernel):
    """A TVTensor kernel from a pure-tensor one: unwraps the input and wraps the output (or each output) like it."""
    @functools.wraps(kernel)
    def wrapper(inpt, *args, **kwargs):
        output = kernel(inpt.as_subclass(ember.Tensor), *args, **kwargs)
        if isinstance(output, (tuple, list)):   # five_crop, ten_crop
            return type(output)(wrap(part, like=inpt) for part in output)
        return wrap(output, like=inpt)
    return wrapper


def _boxes_kernel(kernel):
    """A BoundingBoxes kernel from one taking (boxes, format, canvas_size, ..., clamping_mode) and returning
    (boxes, canvas_size)."""
    @functools.wraps(kernel)
    def wrapper(inpt, *args, **kwargs):
        output, canvas_size = kernel(inpt.as_subclass(ember.Tensor), inpt.format, inpt.canvas_size, *args,
                                     clamping_mode=inpt.clamping_mode, **kwargs)
        return wrap(output, like=inpt, canvas_size=canvas_size)
    return wrapper


def _register_kernel_internal(functional, input_type, *, tv_tensor_wrapper=True):
    def decorator(kernel):
        registry = _KERNEL_REGISTRY.setdefault(functional, {})
        if input_type in registry:
            raise ValueError(f"Functional {functional} already has a kernel registered for type {input_type}.")
        wrapped = kernel
        if tv_tensor_wrapper and isinstance(input_type, type) and issubclass(input_type, BoundingBoxes):
            wrapped = _boxes_kernel(kernel)
        elif tv_tensor_wrapper and isinstance(input_type, type) and issubclass(input_type, TVTensor):
            wrapped = _unwrapped(kernel)
        registry[input_type] = wrapped
        return kernel
    return decorator


def register_kernel(functional, tv_tensor_cls):
    """Decorator: registers a kernel for ``functional`` (a v2 functional or its name) on the custom TVTensor type
    ``tv_tensor_cls``; the kernel receives the TVTensor itself and returns the output."""
    if isinstance(functional, str):
        from .. import functional as namespace
        functional = getattr(namespace, functional, None)
    if not (callable(functional) and functional in _KERNEL_REGISTRY):
        raise ValueError("Kernels can only be registered on functionals from the torchvision.transforms.v2."
                         f"functional namespace, but got {functional}.")
    if not (isinstance(tv_tensor_cls, type) and issubclass(tv_tensor_cls, TVTensor)):
        raise ValueError(f"Kernels can only be registered for subclasses of torchvision.tv_tensors.TVTensor, "
                         f"but got {tv_tensor_cls}.")
    if vars(tv_tensors).get(tv_tensor_cls.__name__) is tv_tensor_cls:
        raise ValueError(f"Kernels cannot be registered for the builtin tv_tensor classes, but got {tv_tensor_cls}.")
    return _register_kernel_internal(functional, tv_tensor_cls, tv_tensor_wrapper=False)


def _noop(inpt, *args, **kwargs):
    return inpt


def _get_kernel(functional, input_type, *, allow_passthrough=False):
    registry = _KERNEL_REGISTRY.get(functional)
    if not registry:
        raise ValueError(f"No kernel registered for functional {functional.__name__}.")
    for cls in input_type.__mro__:
        if cls in registry:
            return registry[cls]
        if f"{cls.__module__}.{cls.__qualname__}" == PIL_IMAGE and PIL_IMAGE in registry:
            return registry[PIL_IMAGE]
        if cls is TVTensor:   # a custom TVTensor without its own kernel passes through rather than use Tensor's
            break
    if allow_passthrough:
        return _noop
    registered = ", ".join(getattr(t, "__name__", str(t)) for t in registry)
    raise TypeError(f"Functional F.{functional.__name__} supports inputs of type {registered}, "
                    f"but got {input_type} instead.")


def _dispatch(functional, inpt, *args, **kwargs):
    return _get_kernel(functional, type(inpt))(inpt, *args, **kwargs)
