"""The TPU profiler's name: ember has no XLA, so making one fails as Lightning's does without ``torch_xla``."""
from .profiler import Profiler


class XLAProfiler(Profiler):
    """Lightning's profiler for Cloud TPUs; needs ``torch_xla``, which ember does not have."""

    STEP_FUNCTIONS = {"validation_step", "test_step", "predict_step"}
    RECORD_FUNCTIONS = {"training_step", "backward", "validation_step", "test_step", "predict_step"}

    def __init__(self, port=9012):
        raise ModuleNotFoundError("Requirement 'torch_xla>=1.13' not met. HINT: Try running "
                                  "`pip install -U 'torch_xla>=1.13'`")

    def start(self, action_name):
        pass

    def stop(self, action_name):
        pass
