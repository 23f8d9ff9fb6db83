"""Writing an output folder so that it is always one run's complete output, never a mixture (issue 16).

Every file of a run is written into a hidden temporary folder ``.<out>.XXXXXXXX`` beside the destination; only when
all are complete does the folder take the destination's place:

- no destination yet: one ``rename`` (atomic);
- a destination holding only ckdmbd's own output files (a previous run): the two folders are exchanged in one
  ``renameat2(RENAME_EXCHANGE)`` where Linux offers it (else two renames a moment apart) and the old one is deleted,
  so no stale ``sessions.csv`` or ``overview.png`` of an earlier run survives beside the new report;
- a destination that also holds other files (the user's): the new files are moved in one by one and the earlier
  runs' output files that this run does not write are removed; nothing else in the folder is touched.

The temporary folder is removed when a writer fails, on SIGINT and on SIGTERM (turned into an exception while the
files are written); what a SIGKILL or a power cut leaves is swept by the next run into the same parent folder once
it is older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

OUTPUT_NAMES = frozenset({"report.html", "timeseries.csv", "summary.json", "sessions.csv", "overview.png", "fit.json",
                          "forecast.csv", "samples.csv"})
"""Files the ckdmbd commands write (and ``<scenario>-calibrated.toml`` of ``ckdmbd fit``)."""
STALE_AFTER_S = 15 * 60
"""assumed: a temporary folder untouched for 15 minutes belongs to no running write (writing the largest allowed
output takes well under a minute)."""
_RENAME_EXCHANGE = 2  # linux/fs.h


def is_output_file(name: str) -> bool:
    return name in OUTPUT_NAMES or name.endswith("-calibrated.toml")


def _temporary_pattern(name: str) -> re.Pattern[str]:
    """Names of the temporary folders (``tempfile.mkdtemp``: 8 characters of ``[a-z0-9_]``) for ``name``."""
    return re.compile(rf"\.{re.escape(name)}\.(?:old\.)?[a-z0-9_]{{8}}")


def sweep_stale(target: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary folders of ``target`` left by a killed run (older than :data:`STALE_AFTER_S`)."""
    now = time.time() if now is None else now
    pattern = _temporary_pattern(target.name)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
                shutil.rmtree(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """SIGTERM raises inside the ``with`` block (so ``finally`` clauses clean up), as SIGINT already does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _replace_folder(tmp: Path, out_dir: Path) -> None:
    """``tmp`` becomes ``out_dir``; the old ``out_dir`` (only ckdmbd output files) is deleted."""
    if _exchange(tmp, out_dir):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old run
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
    old.rmdir()
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except OSError:
        os.rename(old, out_dir)  # put the old run back
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_folder(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Run every writer into a temporary folder, then put the finished folder in place of ``out_dir`` (see the
    module docstring). When a writer fails nothing is left behind: neither the temporary folder nor any folder
    created on the way to ``out_dir``."""
    out_dir = Path(out_dir)
    target = out_dir.resolve()
    created = [d for d in (target, *target.parents) if not d.exists()]  # deepest first
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target)
    finished = False
    try:
        with _terminate_as_exception():
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            try:
                for name, write in writers.items():
                    write(tmp / name)
                os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0o700; an output folder is an ordinary one
                if not target.exists():
                    os.rename(tmp, target)
                elif target.is_dir() and all(is_output_file(p.name) and p.is_file() and not p.is_symlink()
                                             for p in target.iterdir()):
                    _replace_folder(tmp, target)
                else:
                    for name in writers:
                        os.replace(tmp / name, target / name)
                    for stale in target.iterdir():
                        if is_output_file(stale.name) and stale.name not in writers and stale.is_file():
                            stale.unlink()
                finished = True
                return [out_dir / name for name in writers]
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if not finished:
            for d in created:  # deepest first; stop at the first that is not empty
                try:
                    d.rmdir()
                except FileNotFoundError:
                    continue
                except OSError:
                    break


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
