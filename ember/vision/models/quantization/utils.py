"""What the quantizable models share (``torchvision.models.quantization.utils``): ReLU6 and in-place ReLUs
replaced by plain ReLUs (fusable), the post-training quantization of a model, and fusing for PTQ or QAT."""
from .... import ao, backends, nn, rand
from .._utils import _ovewrite_named_param

__all__ = []


def _replace_relu(module):
    reassign = {}
    for name, mod in module.named_children():
        _replace_relu(mod)
        if type(mod) is nn.ReLU or type(mod) is nn.ReLU6:
            reassign[name] = nn.ReLU(inplace=False)
    for key, value in reassign.items():
        module._modules[key] = value


def _backend_from_weights(weights, kwargs, default):
    """Sets ``num_classes`` (and ``backend``) from the weights' meta as torchvision's builders do, checking that a
    caller's value agrees; removes and returns the backend."""
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
        if "backend" in weights.meta:
            _ovewrite_named_param(kwargs, "backend", weights.meta["backend"])
    return kwargs.pop("backend", default)


def _quantize_and_load(model, backend, quantize, weights, progress):
    """Makes ``model``'s ReLUs fusable, quantizes it when asked and loads ``weights``; returns the model."""
    _replace_relu(model)
    if quantize:
        quantize_model(model, backend)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def quantize_model(model, backend):
    """Quantizes ``model`` in place with min/max observers (per-channel weights for fbgemm), calibrated on one
    random 299x299 image, as torchvision does."""
    _dummy_input_data = rand(1, 3, 299, 299)
    if backend not in backends.quantized.supported_engines:
        raise RuntimeError("Quantized backend not supported ")
    backends.quantized.engine = backend
    model.eval()
    if backend == "fbgemm":
        model.qconfig = ao.quantization.QConfig(activation=ao.quantization.default_observer,
                                                weight=ao.quantization.default_per_channel_weight_observer)
    elif backend == "qnnpack":
        model.qconfig = ao.quantization.QConfig(activation=ao.quantization.default_observer,
                                                weight=ao.quantization.default_weight_observer)
    model.fuse_model()
    ao.quantization.prepare(model, inplace=True)
    model(_dummy_input_data)
    ao.quantization.convert(model, inplace=True)


def _fuse_modules(model, modules_to_fuse, is_qat, **kwargs):
    if is_qat is None:
        is_qat = model.training
    method = ao.quantization.fuse_modules_qat if is_qat else ao.quantization.fuse_modules
    return method(model, modules_to_fuse, **kwargs)
