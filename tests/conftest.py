"""Test-wide set-up. Qt must know its platform before any QApplication exists."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")  # qasync: pin the binding
# Never touch a real user's data: every test process gets its own app home unless the harness set one.
os.environ.setdefault("ASSISTANT_APP_HOME", tempfile.mkdtemp(prefix="assistant-app-test-"))
