"""Test-wide set-up. Qt must know its platform before any QApplication exists."""

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")  # qasync: pin the binding
# Never touch a real user's data: every test process gets its own app home unless the harness set one.
os.environ.setdefault("ASSISTANT_APP_HOME", tempfile.mkdtemp(prefix="assistant-app-test-"))


@pytest.fixture(scope="session")
def qloop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop for the whole session: closing and re-creating qasync loops on one
    QApplication leaves Qt timers pointing at dead objects (seen as segfaults)."""
    import PySide6.QtWidgets  # noqa: F401  (qasync picks the binding that is already imported)
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    # As app.py does: qasync installs no async-generator hooks, so an abandoned generator (an HTTP body
    # iterator left after an image stream's final event) would be finalised by the GC outside the loop.
    hooks = sys.get_asyncgen_hooks()
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    sys.set_asyncgen_hooks(*hooks)
    loop.close()
    asyncio.set_event_loop(None)
