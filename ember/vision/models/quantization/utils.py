"""What the quantizable models share (``torchvision.models.quantization.utils``): ReLU6 and in-place ReLUs
replaced by plain ReLUs (fusable), the post-training quantization of a model, and fusing for PTQ or QAT."""
from .... import ao, backends, nn, rand

__all__ = []


def _replace_relu(module):
    reassign = {}
    for name, mod in module.named_children():
        _replace_relu(mod)
        if type(mod) is nn.ReLU or type(mod) is nn.ReLU6:
            reassign[name] = nn.ReLU(inplace=False)
    for key, value in reassign.items():
        module._modules[key] = value


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
