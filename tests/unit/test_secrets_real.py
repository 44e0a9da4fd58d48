"""SecretStore against a real Secret Service (gnome-keyring inside a private D-Bus session).

scripts/test.sh runs pytest inside `dbus-run-session` with an unlocked gnome-keyring and a throw-away
HOME, and sets ASSISTANT_APP_TEST_KEYRING=private. These tests need all three: they write entries to the
session's keyring and read every file under $HOME, which must not happen to a developer's real
keyring and home directory when pytest is run by hand on a desktop.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.errors import PasswordDeleteError

from assistant_app.core.secrets import SecretStore

pytestmark = pytest.mark.keyring


def _why_no_private_secret_service() -> str | None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "DBUS_SESSION_BUS_ADDRESS is unset (run under scripts/test.sh)"
    if os.environ.get("ASSISTANT_APP_TEST_KEYRING") != "private":
        return "not a private test keyring session (scripts/test.sh sets ASSISTANT_APP_TEST_KEYRING=private)"
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018  (raises RuntimeError when the service does not answer)
    except Exception as exc:
        return f"the Secret Service does not answer: {exc}"
    return None


_SKIP_REASON = _why_no_private_secret_service()
needs_secret_service = pytest.mark.skipif(_SKIP_REASON is not None, reason=_SKIP_REASON or "")


# ----- scanning files for a secret -------------------------------------------------------------


def _encodings(secret: str) -> list[bytes]:
    """The byte forms a careless store could leave on disk."""
    raw = secret.encode()
    return [
        raw,
        secret.encode("utf-16-le"),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        raw.hex().encode(),
    ]


def _regular_files(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode):  # never open sockets or FIFOs (they would block)
                yield path


def files_containing(roots: list[Path], secret: str) -> tuple[list[Path], int]:
    """(files that contain the secret in any of its encodings, number of files scanned)."""
    needles = _encodings(secret)
    overlap = max(len(n) for n in needles)
    hits: list[Path] = []
    scanned = 0
    for root in roots:
        for path in _regular_files(root):
            try:
                with path.open("rb") as fh:
                    scanned += 1
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        window = tail + chunk
                        if any(n in window for n in needles):
                            hits.append(path)
                            break
                        tail = window[-overlap:]
            except OSError:
                continue
    return hits, scanned


def test_scanner_finds_a_planted_secret(tmp_path: Path) -> None:
    """The scanner itself must be able to fail: plant the secret in several forms, including
    a SQLite WAL-like file and a chunk boundary, and check each is found."""
    secret = "sk-canary-" + secrets.token_hex(8)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "db.sqlite3-wal").write_bytes(b"\0" * 100 + secret.encode() + b"\0")
    (tmp_path / "a" / "utf16.txt").write_bytes(secret.encode("utf-16-le"))
    (tmp_path / "plain.cfg").write_bytes(b"password = " + base64.b64encode(secret.encode()))
    boundary = tmp_path / "boundary.bin"
    boundary.write_bytes(b"x" * ((1 << 20) - 5) + secret.encode())
    (tmp_path / "clean.txt").write_text("nothing here")
    hits, scanned = files_containing([tmp_path], secret)
    assert sorted(p.name for p in hits) == ["boundary.bin", "db.sqlite3-wal", "plain.cfg", "utf16.txt"]
    assert scanned == 5


# ----- the real Secret Service -----------------------------------------------------------------


@pytest.fixture
def account() -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    if _SKIP_REASON is None:
        try:
            keyring.get_keyring().delete_password(SecretStore.SERVICE, name)
        except PasswordDeleteError:
            pass


@pytest.fixture
def secret() -> str:
    return "sk-real-" + secrets.token_urlsafe(24)


@needs_secret_service
def test_default_store_uses_the_secret_service() -> None:
    store = SecretStore()
    active = store.active_backend()
    assert active is not None
    assert type(active).__module__ == "keyring.backends.SecretService"
    usable, reason = store.status()
    assert usable, reason
    assert "SecretService" in reason


@needs_secret_service
def test_round_trip_through_the_real_secret_service(account: str, secret: str) -> None:
    store = SecretStore()
    assert type(store.active_backend()).__module__ == "keyring.backends.SecretService"
    assert store.get(account) is None
    store.set(account, secret)
    assert not store.is_session_only(account)
    assert store.get(account) == secret
    # A fresh store and keyring's own API read the same entry: it really is in the keyring.
    assert SecretStore().get(account) == secret
    assert keyring.get_password(SecretStore.SERVICE, account) == secret
    store.delete(account)
    assert store.get(account) is None
    assert keyring.get_password(SecretStore.SERVICE, account) is None
    store.delete(account)  # already gone: fine


@needs_secret_service
def test_session_only_secret_never_reaches_the_keyring(account: str, secret: str) -> None:
    store = SecretStore()
    store.set(account, secret, session_only=True)
    assert store.get(account) == secret
    assert keyring.get_password(SecretStore.SERVICE, account) is None


@needs_secret_service
def test_stored_secret_is_in_no_file(account: str, secret: str) -> None:
    store = SecretStore()
    store.set(account, secret)
    assert SecretStore().get(account) == secret
    roots = [Path(os.environ["HOME"])]
    if os.environ.get("ASSISTANT_APP_HOME"):
        roots.append(Path(os.environ["ASSISTANT_APP_HOME"]))
    existing = [r for r in roots if r.is_dir()]
    hits, scanned = files_containing(existing, secret)
    assert scanned > 0, f"nothing to scan under {existing}"  # at least gnome-keyring's own files
    assert hits == [], f"secret found in {hits}"


@needs_secret_service
@pytest.mark.skipif(shutil.which("secret-tool") is None, reason="secret-tool (libsecret-tools) not installed")
def test_secret_tool_sees_the_entry(account: str, secret: str) -> None:
    SecretStore().set(account, secret)
    out = subprocess.run(
        ["secret-tool", "lookup", "service", SecretStore.SERVICE, "username", account],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.rstrip("\n") == secret


# ----- a locked collection, in its own throw-away D-Bus session ---------------------------------

_LOCKED_PROBE = textwrap.dedent(
    """
    import json, secretstorage
    from assistant_app.core.secrets import KeyringUnavailable, SecretStore

    store = SecretStore()
    store.set("acct", "sk-before-lock-123")
    before = store.status()
    bus = secretstorage.dbus_init()
    secretstorage.get_default_collection(bus).lock()
    after = store.status()
    got = store.get("acct")
    try:
        store.set("acct", "sk-after-lock-456")
        set_error = None
    except KeyringUnavailable as exc:
        set_error = str(exc)
    print(json.dumps({"backend": type(store.active_backend()).__module__, "before": before,
                      "after": after, "got": got, "set_error": set_error}))
    """
)


@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="dbus-run-session / gnome-keyring-daemon not installed",
)
def test_locked_real_keyring_is_detected() -> None:
    """Lock a real gnome-keyring collection with no display for the unlock prompt: the store must
    report it as locked, read None and refuse to store, without leaking the value."""
    root = Path(tempfile.mkdtemp(prefix="kr-"))  # short path: unix socket names are limited to 108 bytes
    try:
        (root / "home").mkdir()
        (root / "run").mkdir(mode=0o700)
        env = {
            k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"}
        }
        env.update(HOME=str(root / "home"), XDG_RUNTIME_DIR=str(root / "run"))
        unlock = "printf %s locked-test-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null"
        script = unlock + ' && exec "$@"'
        proc = subprocess.run(
            ["dbus-run-session", "--", "sh", "-c", script, "sh", sys.executable, "-c", _LOCKED_PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["backend"] == "keyring.backends.SecretService"
    assert result["before"][0] is True
    assert result["after"][0] is False
    assert "locked" in result["after"][1].lower()
    assert result["got"] is None
    assert result["set_error"] is not None and "locked" in result["set_error"].lower()
    assert "sk-after-lock-456" not in result["set_error"]
    assert "sk-after-lock-456" not in proc.stderr
