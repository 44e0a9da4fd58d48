"""Composition root of the window: services, controllers, one qasync loop, orderly shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback

from assistant_app.resources import resource

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
    from PySide6.QtCore import QSocketNotifier

    if sys.platform == "win32":
        return
    import socket

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def drain() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    window._signal_sockets = (reader, writer, notifier)  # keep alive with the window
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: window.close())


def _warm_up_in_background() -> None:
    """Prepare the Markdown renderer off the GUI thread, so opening the first conversation is quick."""
    import threading

    from assistant_app.ui.markdown import warm_up

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()


async def _first_frame() -> None:
    """Return once Qt has handled the events queued so far, the window's first paint among them."""
    from PySide6.QtCore import QTimer

    done = asyncio.get_running_loop().create_future()
    QTimer.singleShot(0, lambda: done.done() or done.set_result(None))
    await done


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


async def _main(app) -> int:
    from assistant_app.core.context import AppContext
    from assistant_app.ui.chat_controller import ChatController
    from assistant_app.ui.main_window import MainWindow

    # Phase 1, before the first frame: only what showing the window and chatting need.
    ctx = AppContext.create()
    window = MainWindow()
    chat = ChatController(ctx, window)
    closed = asyncio.Event()
    window.closing.connect(closed.set)
    app.aboutToQuit.connect(closed.set)  # may fire twice (qasync); setting an Event twice is harmless
    _close_on_signals(window)

    if ctx.settings.window_geometry:
        from PySide6.QtCore import QByteArray

        window.restoreGeometry(QByteArray.fromBase64(ctx.settings.window_geometry.encode()))
    chat.refresh_list()
    chat.new_conversation()
    window.show()
    await _first_frame()
    if os.environ.get("ASSISTANT_APP_EXIT_AFTER_SHOWN"):
        _report_shown_and_close(window)
    log.info("window shown (%d conversations)", ctx.store.count_conversations())

    # Phase 2, once the window is on screen and typing works: the key check (welcome panel), the model
    # list, settings dialogs and dictation; their modules (httpx, keyring, numpy) load now, not before.
    from assistant_app.ui.dictation_controller import DictationController
    from assistant_app.ui.provider_controller import ProviderController

    chat.images  # noqa: B018  (builds the Attach / Create image controls now)
    providers = ProviderController(ctx, window, chat)
    dictation = DictationController(ctx, window)  # after ProviderController: see ui/dictation_support.py
    providers.start()
    dictation.start()
    _warm_up_in_background()

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
    ctx.close()
    return 0


def run_gui() -> int:
    os.environ.setdefault("QT_API", "pyside6")  # qasync picks its binding from this
    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("assistant-app")
    app.setApplicationDisplayName("Assistant")
    app.setOrganizationName("assistant-app")
    app.setDesktopFileName("assistant-app")
    icon = resource("icons", "assistant-app.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setQuitOnLastWindowClosed(False)
    _install_excepthook()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # qasync does not install asyncio's async-generator hooks; without them an abandoned generator
    # (an HTTP body iterator) is finalised after the loop is gone and prints tracebacks at exit.
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    with loop:
        rc = loop.run_until_complete(_main(app))
        loop.run_until_complete(loop.shutdown_asyncgens())
        return rc
