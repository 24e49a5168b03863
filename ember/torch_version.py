"""``TorchVersion``: a version string that also compares as a version, with strings, tuples and ``Version``s."""
import re

__all__ = ["TorchVersion"]

_RELEASE = re.compile(r"\s*v?(\d+(?:\.\d+)*)")


def _parse(value):
    """``value`` (a str, a tuple/list of parts, or a packaging ``Version``) as a comparable version."""
    if not isinstance(value, str):
        if hasattr(value, "release"):
            return value if _packaging() else _Release(value.release)
        if isinstance(value, (tuple, list)):
            value = ".".join(str(part) for part in value)
        else:
            raise TypeError(f"cannot compare a TorchVersion with {type(value).__name__}")
    version = _packaging()
    if version is not None:
        return version.Version(value)
    match = _RELEASE.match(value)
    if match is None:
        raise ValueError(f"Invalid version: '{value}'")
    return _Release(int(part) for part in match.group(1).split("."))


def _packaging():
    try:
        from packaging import version
    except ImportError:  # compare release numbers only (pre/post/dev/local parts ignored)
        return None
    return version


class _Release(tuple):
    """Release numbers with trailing zeros dropped, so (2, 0) == (2, 0, 0) as in PEP 440."""

    def __new__(cls, parts):
        parts = list(parts)
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return super().__new__(cls, parts)


class TorchVersion(str):
    """A version string (``"2.13.0"``) that compares as a PEP 440 version against strings (``>= "2.0"``), tuples
    (``>= (2, 1)``) and ``packaging.version.Version``; unparsable operands fall back to comparing as strings."""

    __slots__ = ()
    __hash__ = str.__hash__

    def _compare(self, other, method):
        try:
            mine, theirs = _parse(str(self)), _parse(other)
        except (TypeError, ValueError):
            return getattr(str, method)(self, other)
        return getattr(mine, method)(theirs)

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    def __ne__(self, other):
        result = self._compare(other, "__eq__")
        return result if result is NotImplemented else not result

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")
