"""Warnings attributed to the frame PyTorch's would name. ember's thin wrappers (a composite op's dispatch, NumPy
keyword renaming, a loss's node naming) add frames that PyTorch's functions do not have, so a plain ``stacklevel``
would point into ember's own dispatch code; ``warn`` counts only the frames that are not such wrappers."""
import sys
import warnings

__all__ = []

_wrapper_codes = set()


def transparent(function):
    """Decorator: frames of ``function`` (a wrapper PyTorch has no counterpart of) are not counted by ``warn``."""
    _wrapper_codes.add(function.__code__)
    return function


def warn(message, category=UserWarning, stacklevel=1):
    """``warnings.warn``, with ``stacklevel`` counted over the frames that are not ember's transparent wrappers
    (1 is the function calling ``warn``)."""
    frame, level = sys._getframe(1), 1
    for _ in range(stacklevel - 1):
        frame, level = frame.f_back, level + 1
        while frame is not None and frame.f_code in _wrapper_codes:
            frame, level = frame.f_back, level + 1
        if frame is None:
            break
    warnings.warn(message, category, stacklevel=level + 1)
