"""Shared helpers: a namespace per test (both libraries keep registrations for the whole process), and the
error each library raises."""
import itertools
import re

import pytest

_counter = itertools.count()


def namespace(prefix="emtest"):
    """A namespace no other test uses."""
    return f"{prefix}{next(_counter)}"


def raised(call, expected=Exception):
    """``(type name, message)`` of what ``call()`` raises, with library and module names made comparable."""
    with pytest.raises(expected) as error:
        call()
    message = str(error.value)
    message = re.sub(r" \(with implementation in <module '[\w.]+' from '[^']+'>\)", "", message)
    message = message.replace("ember._tensor.Tensor", "torch.Tensor").replace("ember.", "torch.")
    return type(error.value).__name__, message
