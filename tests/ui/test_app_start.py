"""The composition root in-process: the window first, then the loop, the controllers and the replay."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import keyring
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from assistant_app import app as composition
from assistant_app.core.store import Store
from tests.support.fake_openai import FakeOpenAI
from tests.support.memory_keyring import MemoryKeyring

KEY = "sk-app-start-test-0000"


def test_window_first_then_controllers_and_the_requests_made_meanwhile(qloop, qtbot, tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    store = Store(home / "data" / "assistant.sqlite3")
    ids = [store.create_conversation(title=f"Conversation {i}").id for i in range(composition.FIRST_SCREEN_ROWS + 20)]
    store.close()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    saved_keyring = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())  # the app's SecretStore() takes the process-wide keyring
    root_handlers = list(logging.getLogger().handlers)
    with FakeOpenAI(api_key=KEY) as server:
        monkeypatch.setenv("ASSISTANT_APP_HOME", str(home))
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.delenv("ASSISTANT_APP_EXIT_AFTER_SHOWN", raising=False)
        task = None
        try:
            early = composition._show_window(QApplication.instance())
            assert early is not None
            window, sidebar = early.window, early.window.sidebar
            # Phase 0: a screenful of conversations, the window on screen, no controller yet.
            assert window.isVisible() and early.partial_list
            assert sidebar.list.count() == composition.FIRST_SCREEN_ROWS
            assert window.model_picker.currentText()  # the default model is already shown
            # Built right after the first frame: the menus' actions with their shortcuts, the app icon.
            new_chat = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&New chat"]
            assert new_chat and not new_chat[0].shortcut().isEmpty()
            assert not QApplication.windowIcon().isNull()
            oldest_shown = ids[-composition.FIRST_SCREEN_ROWS]  # most recent first
            sidebar.conversationSelected.emit(oldest_shown)  # clicked before anyone listens

            assert composition._open_storage(early)  # as run_gui does next
            task = qloop.create_task(composition._main(QApplication.instance(), early))
            qloop.run_until_complete(_until(lambda: sidebar.list.count() == len(ids)))
            # The click was replayed to the chat controller: that conversation is open.
            qloop.run_until_complete(_until(lambda: window.title.text() == f"Conversation {ids.index(oldest_shown)}"))
            window.close()
            assert qloop.run_until_complete(asyncio.wait_for(task, 30)) == 0
        finally:
            if task is not None and not task.done():  # a failed check: shut the app down all the same
                early.window.close()
                qloop.run_until_complete(asyncio.wait([task], timeout=30))
            keyring.set_keyring(saved_keyring)
            if task is not None:
                early.window.deleteLater()  # with it the controllers and their timers
            signal.set_wakeup_fd(-1)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            for handler in logging.getLogger().handlers:
                if handler not in root_handlers:
                    logging.getLogger().removeHandler(handler)
                    handler.close()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


async def _until(predicate, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)
