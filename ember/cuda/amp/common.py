"""``ember.cuda.amp.common``: PyTorch's check that mixed precision surely has no device to run on."""
from importlib.util import find_spec


def amp_definitely_not_available():
    """True when there is neither a CUDA device nor torch_xla, as PyTorch's (CPU autocast does not count)."""
    from ... import cuda
    return not (cuda.is_available() or find_spec("torch_xla"))
