"""``torch._dynamo.exc``: the errors ``compile`` raises."""


class TorchDynamoException(RuntimeError):
    """Base of the errors of ``compile``."""


class Unsupported(TorchDynamoException):
    """The program cannot be captured as one graph (raised with ``fullgraph=True`` instead of running eagerly)."""


class InvalidBackend(TorchDynamoException):
    """``compile`` was given a backend name it does not know."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for available backends.")


class FailOnRecompileLimitHit(Exception):
    """``fullgraph=True`` and the guards missed more often than ``config.recompile_limit`` allows."""
