"""Where the app keeps its data, settings and logs.

``ASSISTANT_APP_HOME`` puts everything under one directory (tests, portable installs).
Otherwise the platform's conventional per-user locations are used; they match what Qt's
QStandardPaths.AppDataLocation returns for this app, computed here without importing Qt so
the CLI and the engine stay Qt-free.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple
from pathlib import Path

APP_NAME = "assistant-app"
ENV_HOME = "ASSISTANT_APP_HOME"


class AppPaths(namedtuple("_Dirs", "data config logs")):
    """The app's directories (``data``, ``config``, ``logs``: Paths). A plain namedtuple: this loads before
    the window's first frame, where a dataclass or typing.NamedTuple costs a millisecond or more."""

    __slots__ = ()

    @property
    def database(self) -> Path:
        return self.data / "assistant.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def attachments(self) -> Path:
        return self.data / "attachments"

    @property
    def recordings(self) -> Path:
        return self.data / "recordings"

    def ensure(self) -> AppPaths:
        for p in (self.data, self.config, self.logs):
            p.mkdir(parents=True, exist_ok=True)
            try:
                p.chmod(0o700)
            except OSError:
                pass
        return self


def _platform_dirs() -> AppPaths:
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / APP_NAME
        return AppPaths(base, base, base / "logs")
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support" / APP_NAME
        return AppPaths(base, base, home / "Library" / "Logs" / APP_NAME)
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / APP_NAME
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / APP_NAME
    state = Path(os.environ.get("XDG_STATE_HOME") or home / ".local" / "state") / APP_NAME
    return AppPaths(data, config, state / "logs")


def app_paths() -> AppPaths:
    """The directories for this process (not created; call ``ensure()``)."""
    override = os.environ.get(ENV_HOME)
    if override:
        base = Path(override).expanduser().resolve()
        return AppPaths(base / "data", base / "config", base / "logs")
    return _platform_dirs()
