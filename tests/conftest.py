"""Shared test fixtures: where the read-only reference material lives.

``CKDMBD_SHARED_DIR`` overrides the location of the shared folder (default: ``../shared`` beside the repository).
Under CI (``CI=true``) a missing reference is an error, elsewhere the tests that need it are skipped.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("CKDMBD_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def reference_sbml() -> Path:
    path = Path(os.environ.get("CKDMBD_REFERENCE_SBML", shared_dir() / "reference" / "BIOMD0000000613.xml"))
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference SBML not found at {path} (set CKDMBD_REFERENCE_SBML or CKDMBD_SHARED_DIR)")
        pytest.skip(f"reference SBML not found at {path}")
    return path


@pytest.fixture(scope="module")
def server():
    """The what-if page's server (``ckdmbd app``) on a free local port, for the app's test files; its URL."""
    import threading

    from ckdmbd.app import make_server

    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
