"""Errors the engine raises for bad specs or inputs; the API maps them to 4xx."""


class EngineError(ValueError):
    """Bad input the caller can fix (wrong shape, unknown name, bad size)."""


class SizeLimitError(EngineError):
    """A request is larger than a configured limit."""
