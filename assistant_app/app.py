"""Composition root of the window: services, controllers, one qasync loop, orderly shutdown."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import TYPE_CHECKING

from assistant_app.resources import resource

if TYPE_CHECKING:
    from pathlib import Path

    from assistant_app.core.paths import AppPaths
    from assistant_app.core.store import Store
    from assistant_app.ui.intent_buffer import IntentBuffer
    from assistant_app.ui.main_window import MainWindow

log = logging.getLogger("assistant_app")


def _install_excepthook() -> None:
    """Uncaught errors (including those raised in Qt slots) are logged, never silently lost."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:
        log.error("uncaught error:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if previous is not None and previous is not sys.__excepthook__:
            previous(exc_type, exc, tb)

    sys.excepthook = hook


def _close_on_signals(window) -> None:
    """SIGTERM/SIGINT close the window (so the partial reply is saved), even while Qt sleeps.

    Python runs signal handlers only when the interpreter gets control; Qt's event loop can wait
    in C for a long time, so a wake-up fd tied to a QSocketNotifier hands control back at once.
    """
    import signal

    from PySide6.QtCore import QSocketNotifier

    if sys.platform == "win32":
        return
    reader, writer = os.pipe()  # a pipe, not a socket pair: the socket module is not loaded yet
    os.set_blocking(reader, False)
    os.set_blocking(writer, False)
    signal.set_wakeup_fd(writer)
    notifier = QSocketNotifier(reader, QSocketNotifier.Type.Read, window)

    def drain() -> None:
        try:
            os.read(reader, 64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    window._signal_fds = (reader, writer, notifier)  # keep alive with the window
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: window.close())


def _warm_up_in_background(window) -> None:
    """Prepare the Markdown renderer off the GUI thread, load the message widgets once the window is
    idle, and draw a sample reply off screen a moment later, so the first conversation opens quickly
    and the first reply streams without first-time pauses."""
    import threading

    from PySide6.QtCore import QTimer

    from assistant_app.ui.markdown import warm_up
    from assistant_app.ui.message_view import preload

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    QTimer.singleShot(0, preload)  # Qt classes: on the GUI thread
    QTimer.singleShot(300, window.messages.warm_up)  # by then the thread has highlighted its code


def _report_shown_and_close(window) -> None:
    """For benchmarks and smoke tests: the first frame is painted and the event loop idle (the window
    takes input): print ``SHOWN <seconds since process start>`` and quit."""
    import time

    started = _process_start_time()
    elapsed = time.time() - started if started else float("nan")
    print(f"SHOWN {elapsed:.4f}", flush=True)
    window.close()


def _process_start_time() -> float | None:
    """Wall-clock time this process started (Linux /proc), so start-up includes interpreter start."""
    try:
        import time

        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class _EarlyWindow:
    """Phase 0's result: the window on screen, filled from a quick read of the stored data."""

    def __init__(self, paths: AppPaths, window: MainWindow, intents: IntentBuffer, partial_list: bool) -> None:
        self.paths = paths
        self.window = window
        self.intents = intents
        self.partial_list = partial_list  # the sidebar may not hold every stored conversation yet
        self.closed = False
        self.store: Store | None = None  # set by _open_storage


def _open_storage(early: _EarlyWindow) -> bool:
    """The real store, once the window is shown (migrations, recovery of interrupted replies). A problem
    with it is reported over the window; False (and the window closed) if the user chose to quit."""
    opened = _open_store(early.paths.database)
    if opened is None:
        early.window.close()
        return False
    early.store, kept = opened
    if kept is not None:
        early.window.statusBar().showMessage(f"The damaged conversation database was kept as {kept}.")
        early.partial_list = True  # the first frame listed what it could read of the damaged one
    return True


FIRST_SCREEN_ROWS = 80  # sidebar rows in the first frame: more than the tallest screen shows


def _show_window(app) -> _EarlyWindow:
    """Phase 0, before asyncio exists: the window with the stored conversations, on screen.

    Only Qt, our window code and a read-only look at the settings file and the database
    (core/first_screen.py: json and sqlite3) load before the first frame; the store, the settings
    and the engine (asyncio and qasync alone take 0.04 s) do not. Then, while the shown window sits
    idle in a local Qt event loop (which releases the GIL, so the window keeps taking input), a
    thread imports them; the loop ends when that is done. What the user asks meanwhile is recorded
    and replayed to the controllers.
    """
    import threading

    from PySide6.QtCore import QByteArray, QEventLoop, QTimer

    from assistant_app.core.first_screen import read_first_screen
    from assistant_app.core.paths import app_paths
    from assistant_app.ui.conversation_list import ConversationRow
    from assistant_app.ui.intent_buffer import IntentBuffer, window_intents
    from assistant_app.ui.main_window import MainWindow

    paths = app_paths().ensure()
    first = read_first_screen(paths.settings_file, paths.database, FIRST_SCREEN_ROWS)
    window = MainWindow(menus_later=True)
    early = _EarlyWindow(paths, window, IntentBuffer(window_intents(window)), partial_list=not first.complete)
    window.closing.connect(lambda: setattr(early, "closed", True))
    if first.geometry:
        window.restoreGeometry(QByteArray.fromBase64(first.geometry.encode()))
    # A screenful of conversations now, the rest once the controllers run (1,000 rows: ~7 ms).
    window.sidebar.set_conversations([ConversationRow(cid, title) for cid, title in first.conversations], None)
    window.messages.show_placeholder(window.messages.NEW_CHAT_HINT)
    window.set_title("New chat")
    window.set_models([], first.model)  # as new_conversation will
    window.composer.editor.setFocus()
    window.show()

    # The loader thread makes no Qt call at all (emitting a signal from it would run Qt code holding the
    # GIL while this thread may wait for that GIL inside Qt): this thread polls for its end instead.
    failure: list[BaseException] = []
    loader = threading.Thread(target=_import_engine, args=(failure,), name="load-engine", daemon=True)
    local = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: loader.is_alive() or local.quit())

    def first_frame() -> None:
        if os.environ.get("ASSISTANT_APP_EXIT_AFTER_SHOWN"):
            _report_shown_and_close(window)
        _close_on_signals(window)  # before it, SIGTERM's default (quit) loses nothing: nothing is open yet
        loader.start()
        poll.start()
        # What the first frame does not show: the menus' actions and shortcuts, the window icon (the
        # window manager picks it up when it is set).
        window.build_menus()
        from PySide6.QtGui import QIcon

        app.setWindowIcon(_window_icon(QIcon))

    QTimer.singleShot(0, first_frame)
    local.exec()
    poll.stop()
    if failure:
        raise failure[0]
    return early


def _open_store(path) -> tuple[Store, Path | None] | None:
    """The conversation database (and where a damaged one was kept), or None if the user chose to quit.
    A database the app cannot read is never deleted: the user may set it aside (renamed, kept for
    recovery) and start with a new one."""
    from assistant_app.core.store import SchemaTooNewError, Store, StoreDamagedError, StoreError, set_aside

    kept: Path | None = None
    while True:
        try:
            return Store(path), kept
        except SchemaTooNewError as exc:
            from PySide6.QtWidgets import QMessageBox  # here, not above: only when there is a problem

            QMessageBox.critical(None, "Assistant", f"{exc}\n\nYour conversations are untouched.")
            return None
        except StoreDamagedError as exc:
            from PySide6.QtWidgets import QMessageBox

            log.error("%s", exc)
            box = QMessageBox(QMessageBox.Icon.Critical, "Assistant", str(exc))
            box.setInformativeText(
                "The app can move it aside (renamed, kept next to it for recovery) and start with an empty "
                "conversation list."
            )
            fresh = box.addButton("Move it aside and start fresh", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() is not fresh:
                return None
            kept = set_aside(path)
            log.warning("damaged database moved to %s", kept)
        except (StoreError, OSError) as exc:
            from PySide6.QtWidgets import QMessageBox

            choice = QMessageBox.critical(
                None, "Assistant", str(exc), QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Close
            )
            if choice != QMessageBox.StandardButton.Retry:
                return None


def _import_engine(failure: list[BaseException]) -> None:
    """Load the Qt-free modules the event loop and the controllers need (runs on a thread: no Qt)."""
    try:
        import asyncio  # noqa: F401
        import logging.handlers  # noqa: F401

        import assistant_app.core.chat
        import assistant_app.core.context
        import assistant_app.core.settings
        import assistant_app.core.store  # noqa: F401
    except BaseException as exc:  # re-raised on the GUI thread
        failure.append(exc)


async def _main(app, early: _EarlyWindow) -> int:
    import asyncio

    from assistant_app.core.context import AppContext, setup_logging
    from assistant_app.core.settings import load_settings
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.dictation_controller import DictationController
    from assistant_app.ui.provider_controller import ProviderController

    setup_logging(early.paths)
    assert early.store is not None, "_open_storage first"
    window = early.window
    ctx = AppContext(paths=early.paths, settings=load_settings(early.paths.settings_file), store=early.store)
    closed = asyncio.Event()
    if early.closed:
        closed.set()
    window.closing.connect(closed.set)
    app.aboutToQuit.connect(closed.set)  # may fire twice (qasync); setting an Event twice is harmless
    log.info("window shown (%d conversations)", ctx.store.count_conversations())

    # Phase 1: the controllers, then what the user asked while they were being set up. The key check
    # (welcome panel), the model list, settings dialogs and dictation load their modules (httpx,
    # keyring, numpy) as they start, not before.
    chat = ChatController(ctx, window)
    if early.partial_list:
        chat.refresh_list()
    chat.new_conversation()
    chat.images  # noqa: B018  (builds the Attach / Create image controls now)
    providers = ProviderController(ctx, window, chat)
    dictation = DictationController(ctx, window)  # after ProviderController: see ui/dictation_support.py
    providers.start()
    dictation.start()
    early.intents.replay()
    _warm_up_in_background(window)

    await closed.wait()

    # Orderly shutdown: the microphone stream first (a transcription in flight keeps its recording for a
    # retry), then stop streaming (the partial reply is saved), end tasks, close HTTP, close DB.
    await dictation.aclose()
    ctx.settings.window_geometry = bytes(window.saveGeometry().toBase64()).decode()
    try:
        ctx.save_settings()
    except OSError as exc:
        log.warning("could not save settings: %s", exc)
    chat.stop()
    if chat._task is not None:
        await asyncio.gather(chat._task, return_exceptions=True)
    await chat.images.wait()  # a cancelled image generation saves its last preview
    await providers.shutdown()
    await ctx.aclose()
    first = [(c.id, c.title) for c in ctx.store.list_conversations(limit=FIRST_SCREEN_ROWS)]
    ctx.close()
    # Nothing writes the database any more: the titles the next start shows first (core/first_screen.py).
    from assistant_app.core.first_screen import write_snapshot

    write_snapshot(early.paths.database, first)
    return 0


def _window_icon(icon_class):
    """The app icon from its PNG sizes (the SVG would load Qt's SVG plugin and render it at every size
    before the first frame); the SVG only when the PNGs are missing."""
    icon = icon_class()
    for size in (16, 24, 32, 48, 64, 128, 256):
        png = resource("icons", "hicolor", f"{size}x{size}", "apps", "assistant-app.png")
        if png.exists():
            icon.addFile(str(png))
    if icon.isNull():
        svg = resource("icons", "assistant-app.svg")
        if svg.exists():
            icon.addFile(str(svg))
    return icon


def run_gui() -> int:
    os.environ.setdefault("QT_API", "pyside6")  # qasync picks its binding from this
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("assistant-app")
    app.setApplicationDisplayName("Assistant")
    app.setOrganizationName("assistant-app")
    app.setDesktopFileName("assistant-app")
    app.setQuitOnLastWindowClosed(False)
    _install_excepthook()
    early = _show_window(app)
    if not _open_storage(early):
        return 1

    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # qasync does not install asyncio's async-generator hooks; without them an abandoned generator
    # (an HTTP body iterator) is finalised after the loop is gone and prints tracebacks at exit.
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    with loop:
        rc = loop.run_until_complete(_main(app, early))
        loop.run_until_complete(loop.shutdown_asyncgens())
        return rc
