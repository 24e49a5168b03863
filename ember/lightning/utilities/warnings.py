"""Lightning's warning category for settings that may be mistakes, and its format for warnings raised from inside
Lightning (``file:line: message``, without the source line), installed when ``ember.lightning`` is imported."""
import warnings
from pathlib import Path

_default_format_warning = warnings.formatwarning


class PossibleUserWarning(UserWarning):
    """Warnings that could be false positives."""


def _custom_format_warning(message, category, filename, lineno, line=None):
    """Formats a warning from a path with "lightning" in it as Lightning does; others as Python does."""
    if "lightning" in str(Path(filename).absolute()):
        return f"{filename}:{lineno}: {message}\n"
    return _default_format_warning(message, category, filename, lineno, line)


def disable_possible_user_warnings(module=""):
    """Ignores PossibleUserWarning (from ``module``, or everywhere)."""
    warnings.filterwarnings("ignore", category=PossibleUserWarning, module=module)
