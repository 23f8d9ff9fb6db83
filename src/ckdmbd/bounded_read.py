"""Reading a user's text file with a size limit, the reason for a refusal kept apart from its wording.

Why: a population spec (:func:`ckdmbd.population.load_population`) and its cohort table
(:func:`ckdmbd.population_draws.read_cohort`) are both files a user names; both must be refused in one line, before
they are read, when they are missing, too large for what they hold, or unreadable (not UTF-8, no permission), and
each caller words that line with its own field. The checks live here once; the callers only word the message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Refusal = Literal["missing", "too_large", "unreadable"]


class BoundedReadError(ValueError):
    """Why :func:`read_bounded_text` refused a file. ``kind``: ``missing`` (no such file), ``too_large`` (over the
    limit) or ``unreadable`` (a decoding or system error); the message is the reason alone ("no such file",
    "larger than N bytes", the system's reason), for the caller to put after its own field and file name."""

    def __init__(self, kind: Refusal, reason: str):
        super().__init__(reason)
        self.kind = kind


def read_bounded_text(path: Path, max_bytes: int, encoding: str = "utf-8") -> str:
    """The text of the regular file ``path`` when it holds at most ``max_bytes`` bytes (checked before reading, so
    a huge file never fills the memory), decoded with ``encoding``; else :class:`BoundedReadError`."""
    if not path.is_file():
        raise BoundedReadError("missing", "no such file")
    try:
        if path.stat().st_size > max_bytes:
            raise BoundedReadError("too_large", f"larger than {max_bytes} bytes")
        return path.read_text(encoding=encoding)
    except (UnicodeDecodeError, OSError) as exc:
        raise BoundedReadError("unreadable", getattr(exc, "strerror", None) or str(exc)) from None
