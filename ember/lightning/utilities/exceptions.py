"""Lightning's exception for a wrong configuration."""


class MisconfigurationException(Exception):
    """Exception used to inform users of misuse with Lightning."""
