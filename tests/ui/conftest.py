"""A real main window on a qasync loop, wired like app.py, talking to the loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QAbstractButton, QWidget

from assistant_app.core.context import AppContext
from assistant_app.core.secrets import SecretStore
from assistant_app.ui.chat_controller import ChatController
from assistant_app.ui.main_window import MainWindow
from assistant_app.ui.message_view import MessageView
from assistant_app.ui.provider_controller import ProviderController
from tests.support.fake_openai import FakeOpenAI
from tests.support.memory_keyring import MemoryKeyring


@dataclass
class App:
    loop: asyncio.AbstractEventLoop
    server: FakeOpenAI
    ctx: AppContext
    window: MainWindow
    chat: ChatController
    providers: ProviderController
    keyring: MemoryKeyring

    def run(self, coro, timeout: float = 30.0):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def until(self, predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
        """Wait (letting Qt and asyncio run) until ``predicate()`` holds."""
        deadline = self.loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def reply_done(self, timeout: float = 15.0) -> tuple[int, str]:
        """Wait for the controller's replyFinished signal."""
        fut: asyncio.Future = self.loop.create_future()

        def done(mid: int, status: str) -> None:
            if not fut.done():
                fut.set_result((mid, status))

        self.chat.replyFinished.connect(done)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.chat.replyFinished.disconnect(done)


def button(parent: QWidget, accessible_name: str) -> QAbstractButton:
    found = [
        b for b in parent.findChildren(QAbstractButton) if b.accessibleName() == accessible_name and b.isVisible()
    ]
    assert found, f"no visible button named {accessible_name!r}"
    return found[-1]


@pytest.fixture
def view(qtbot) -> MessageView:
    """A shown transcript on its own (tests/ui/test_message_view.py, test_stream_smoothness.py)."""
    widget = MessageView()
    qtbot.addWidget(widget)
    widget.resize(760, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def make_app(qloop, tmp_path: Path, monkeypatch) -> Iterator[Callable[..., App]]:
    made: list[App] = []
    loop = qloop
    asyncio.set_event_loop(loop)

    def make(*, key: str | None = "sk-ui-test-key-000", **server_options) -> App:
        server = FakeOpenAI(api_key=key or None, **server_options).start()
        monkeypatch.setenv("ASSISTANT_APP_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        if key:
            monkeypatch.setenv("OPENAI_API_KEY", key)
        else:
            monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        keyring = MemoryKeyring()
        ctx = AppContext.create(secrets=SecretStore(backend=keyring), log=False)
        ctx.settings.max_retries = 2
        window = MainWindow()
        chat = ChatController(ctx, window)
        chat.images  # noqa: B018  (as app.py does once the window is shown)
        providers = ProviderController(ctx, window, chat)
        window.resize(1000, 700)
        chat.refresh_list()
        chat.new_conversation()
        window.show()
        providers.start()
        app = App(loop, server, ctx, window, chat, providers, keyring)
        made.append(app)
        return app

    yield make
    for app in made:
        app.window.close()
        chat_task = app.chat._task
        if chat_task is not None and not chat_task.done():
            chat_task.cancel()
        loop.run_until_complete(asyncio.gather(*(t for t in [chat_task] if t), return_exceptions=True))
        loop.run_until_complete(app.providers.shutdown())
        loop.run_until_complete(app.ctx.aclose())
        app.ctx.close()
        app.window.deleteLater()
        # Delete the widgets now, while this test's loop still exists: deferred deletes left for the
        # next test would run Qt callbacks of half-destroyed windows.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.server.stop()
