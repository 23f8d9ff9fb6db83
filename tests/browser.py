"""Headless Chromium for the tests that render a page: the HTML report (tests/test_html_report.py) and the what-if
app (tests/test_app.py).

The browser tests need Debian's ``chromium``; without it they are skipped, except under CI (``CI=true``), where a
missing browser is an error (the pages must have been checked in a browser there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
# Chromium logs console messages as "...:INFO:CONSOLE:12] "message", source: file:///... (12)" (this build logs
# console.error at INFO level too, so the level cannot tell errors apart); the pages log nothing, so any
# console message, and any uncaught exception, is a failure.
CONSOLE = re.compile(r":CONSOLE[:(]|Uncaught")


def chromium() -> str:
    """The browser's path; the calling test is skipped (failed under CI) when it is not installed."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install chromium); the pages must be checked in a "
                        "browser under CI")
        pytest.skip("chromium is not installed (apt-get install chromium); browser test skipped")
    return found


def run_chromium(browser: str, target: str | Path, tmp: Path, *extra: str, budget_ms: int = 10_000,
                 timeout_s: float = 120) -> subprocess.CompletedProcess:
    """Chromium run headless on ``target`` (a URL, or a local page's path) with a fresh profile under ``tmp``,
    ``extra`` flags (``--dump-dom``, ``--screenshot=...``) and ``budget_ms`` of virtual time for the page's scripts;
    its console goes to stderr (see :func:`console_problems`). A browser that exits with an error fails the test."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp)
    url = target.as_uri() if isinstance(target, Path) else target
    args = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--virtual-time-budget={budget_ms}", *extra, url]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def console_problems(stderr: str) -> list[str]:
    """The console messages and uncaught exceptions in a run's stderr."""
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]
