"""The cache of generated model code: private to the user, checked before anything in it is run (issue 16).

The composer writes each generated model module into this folder and imports it from there, so that numba's
on-disk cache (``__pycache__/*.nbi``, ``*.nbc`` beside the module) spares a second process the compilation. Code
imported from a folder is code run, so:

- the folder is ``$CKDMBD_CACHE_DIR``, else ``$XDG_CACHE_HOME/ckdmbd`` or ``~/.cache/ckdmbd``, else (no writable
  home) ``<temp>/ckdmbd-cache-<uid>``: per user, never one fixed folder shared by every user of the machine;
- a folder the composer creates gets mode 0o700;
- before use the folder, and numba's ``__pycache__`` inside it, must be owned by the current user and writable by
  no one else. The user's own folder that others can write to (a umask of 002) is made private and its compiled
  code deleted (rebuilt: numba's indexes are pickles, and loading a planted one would run code); a ``__pycache__``
  that is not private is deleted; another user's folder (or a link to one) is ignored with a one-line warning and
  a new private temporary folder is used (correct, only slower);
- the module file must hold exactly the generated source (its name carries the hash of that source; a file that
  differs is rewritten), and the module is compiled from the generated source in memory, never from a ``.pyc``:
  a planted or stale bytecode file next to it is never executed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType


def _private(path: Path) -> str | None:
    """Why ``path`` (an existing folder) must not be trusted, or None when it is the user's own private folder."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except OSError as exc:
            return exc.strerror or exc.__class__.__name__
    if not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"owned by another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"writable by others (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def _default() -> Path:
    root = os.environ.get("CKDMBD_CACHE_DIR")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ckdmbd"


def _make(path: Path) -> Path:
    """Create ``path`` (mode 0o700) and prove it writable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=0o700, exist_ok=True)
    probe = path / f".write-test-{os.getpid()}"
    probe.write_text("ok")
    probe.unlink()
    return path


def _warn(message: str) -> None:
    print(f"ckdmbd: warning: {message}", file=sys.stderr)


@cache
def cache_dir() -> Path:
    """The checked cache folder of this process (see the module docstring)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates = [_default(), Path(tempfile.gettempdir()) / f"ckdmbd-cache-{uid}"]
    for path in candidates:
        try:
            _make(path)
        except (OSError, RuntimeError):  # RuntimeError: no home folder
            continue
        problem = _private(path)
        if problem is not None and problem.startswith("writable by others"):
            problem = _make_private(path)
        pycache = path / "__pycache__"
        if problem is None and pycache.exists() and _private(pycache) is not None:
            problem = _clear(pycache, f"its compiled code {_private(pycache)}")
        if problem is None:
            return path
        _warn(f"code cache {str(path)!r} is {problem}; not used (compiling into a private temporary folder)")
    return Path(tempfile.mkdtemp(prefix="ckdmbd-cache-"))


def _make_private(path: Path) -> str | None:
    """The user's own folder that others could write to (a umask of 002): made private, and the compiled code that
    others could have planted in it deleted (it is rebuilt). None when done, else why not."""
    try:
        os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~0o022)
    except OSError as exc:
        return f"writable by others and cannot be made private ({exc.strerror})"
    _warn(f"code cache {str(path)!r} was writable by others: made private, its compiled code is rebuilt")
    return _clear(path / "__pycache__", "writable by others") if (path / "__pycache__").exists() else None


def _clear(pycache: Path, why: str) -> str | None:
    """Delete numba's cache folder (indexes are pickles: loading one runs code); None when done."""
    try:
        shutil.rmtree(pycache)
    except OSError:
        return f"{why}, and it cannot be deleted"
    return None


def load_module(mod_name: str, source: str) -> ModuleType:
    """Write ``source`` as ``<cache>/<mod_name>.py`` (unless the file holds it already) and run it as a module,
    compiled from ``source`` itself; registered in ``sys.modules`` under ``mod_name``."""
    path = cache_dir() / f"{mod_name}.py"
    expected = hashlib.sha256(source.encode()).digest()
    try:
        same = hashlib.sha256(path.read_bytes()).digest() == expected
    except OSError:
        same = False
    if not same:  # missing, stale or tampered with: written afresh
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)  # atomic: parallel test workers never import a half-written file
    module = ModuleType(mod_name)
    module.__file__ = str(path)  # numba's cache locates its files (and checks their freshness) by this path
    sys.modules[mod_name] = module
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except BaseException:
        del sys.modules[mod_name]
        raise
    return module
