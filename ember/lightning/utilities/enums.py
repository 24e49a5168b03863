"""``LightningEnum``: Lightning's string enum, equal to its value (or another enum's) whatever the letter case."""
import warnings
from enum import Enum


class LightningEnum(str, Enum):
    """A string enum compared with strings (and other enums' values) case-insensitively, as Lightning's."""

    @classmethod
    def from_str(cls, value, source="key"):
        """The member whose name (``source="key"``), value (``"value"``) or either (``"any"``) is ``value``."""
        if source in ("key", "any"):
            for key in cls.__members__:
                if key.lower() == value.lower():
                    return cls[key]
        if source in ("value", "any"):
            for key, member in cls.__members__.items():
                if member == value:
                    return cls[key]
        raise ValueError(f"Invalid match: expected one of {cls._allowed_matches(source)}, but got {value}.")

    @classmethod
    def try_from_str(cls, value, source="key"):
        """``from_str``, or None with a warning when nothing matches."""
        try:
            return cls.from_str(value, source)
        except ValueError:
            warnings.warn(UserWarning(f"Invalid string: expected one of {cls._allowed_matches(source)}, but got "
                                      f"{value}."))
        return None

    @classmethod
    def _allowed_matches(cls, source):
        keys = list(cls.__members__)
        values = [member.value for member in cls.__members__.values()]
        return {"key": keys, "value": values}.get(source, keys + values)

    def __eq__(self, other):
        if isinstance(other, Enum):
            other = other.value
        return self.value.lower() == str(other).lower()

    def __hash__(self):
        return hash(self.value.lower())
