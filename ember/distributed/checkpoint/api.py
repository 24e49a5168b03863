"""``torch.distributed.checkpoint.api``: the exception a failed save or load raises on every rank."""
import traceback as tb

__all__ = ["CheckpointException"]


def _wrap_exception(exc):
    """``(exception, stack summary)``: what a rank sends the coordinator when one of its steps failed."""
    summary = tb.extract_tb(exc.__traceback__)
    for frame in summary:   # frames keep a code object, which does not pickle
        if hasattr(frame, "_code"):
            object.__setattr__(frame, "_code", None)
    return exc, summary


def _is_wrapped_exception(obj):
    return isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], BaseException) \
        and isinstance(obj[1], tb.StackSummary)


class CheckpointException(BaseException):
    """Exception raised if failure was detected as part of a checkpoint load or save."""

    def __init__(self, msg, failures):
        super().__init__(msg, failures)
        self._failures = failures

    @property
    def failures(self):
        """Return a dictionary mapping node ranks to their associated exceptions in case of failure."""
        return self._failures

    def __str__(self):
        text = f"CheckpointException ranks:{self._failures.keys()}\n"
        for rank, (exc, trace) in self._failures.items():
            text += f"Traceback (most recent call last): (RANK {rank})\n"
            if trace is not None:
                text += "".join(tb.format_list(trace))
            text += "".join(tb.format_exception_only(type(exc), value=exc))
        return text
