"""The kernels of the ops PyTorch also runs on quantized (QuantizedCPU) tensors, by op name: such an op checks
``input.is_quantized`` and calls ``kernels[name]``. ``ember.ao._qops`` registers them when quantized tensors are
first made; the ops never import it."""

__all__ = []

kernels = {}
