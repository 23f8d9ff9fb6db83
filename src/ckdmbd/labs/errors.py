"""The one error type of lab import: bad input, with a one-line message naming the file, the row or entry, the field
and the value."""

from __future__ import annotations


class LabError(ValueError):
    """A lab file cannot be read as a lab series; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def show(value: object, limit: int = 60) -> str:
    """A value as it appears in a message: repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
