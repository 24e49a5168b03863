"""``torch._dynamo.exc``: the errors ``compile`` and ``export`` raise."""
import enum


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


class UserErrorType(enum.Enum):
    """What a ``UserError`` is about."""

    DYNAMIC_CONTROL_FLOW = 1
    ANTI_PATTERN = 2
    STANDARD_LIBRARY = 3
    CONSTRAINT_VIOLATION = 4
    DYNAMIC_DIM = 5
    INVALID_INPUT = 6
    INVALID_OUTPUT = 7
    UNSUPPORTED_ALIASED_MUTATED_DYNAMIC_INPUTS = 8


class UserError(TorchDynamoException):
    """A program or its inputs break a rule of export (a bad ``dynamic_shapes`` spec, a violated constraint)."""

    def __init__(self, error_type, msg, case_name=None):
        if case_name is not None:
            msg += (" " if msg.endswith(".") else "\n") + ("For more information about this error, see: https://"
                                                           "pytorch.org/docs/main/generated/exportdb/index.html#"
                                                           + case_name.replace("_", "-"))
        super().__init__(msg)
        self.error_type, self.msg, self.message = error_type, msg, msg
