"""The signal a Tuner's finder raises to end the fit it ran in."""


class TunerExit(Exception):
    """Raised by a finder callback run through a Tuner: its work is done, the fit ends there."""
