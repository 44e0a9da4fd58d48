"""API keys in the operating system's keyring, or in process memory for this session only.

The keyring is the only persistent place a secret may go. When no secure keyring is usable (no
Secret Service on D-Bus, a locked collection, or only file-based backends such as keyrings.alt's
PlaintextKeyring), the store says so in words the user can act on, and the caller can offer to keep
the key for this session only. It never falls back to a file silently.

Nothing here puts a secret into a log record or an exception message: errors from the backend are
described by type and message with the secret redacted, and the ``KeyringUnavailable`` is raised
outside the handler, so it carries no reference to the backend's exception (no ``__context__``).
"""

from __future__ import annotations

import logging
import sys
import threading

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

# Backends that must never hold a secret: they either do nothing, always fail, or keep the value in a
# file under $HOME (plain or base64, or encrypted with a master password asked for on stdin, which
# blocks a GUI app started from a terminal).
_INSECURE_MODULE_PREFIXES = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")
_INSECURE_NAME_MARKERS = ("plaintext", "uncrypted", "unencrypted")


class KeyringUnavailable(Exception):
    """The system keyring cannot store the secret. The message says why and what to do."""


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _keep_for_session_hint() -> str:
    return "You can keep the key for this session only; it is then forgotten when the app quits."


def _install_hint() -> str:
    if sys.platform == "darwin":
        return "The macOS Keychain should always be available; check that you are logged in to a desktop session."
    if sys.platform == "win32":
        return "The Windows Credential Manager should always be available; check that you are logged in."
    return (
        "Install and start a Secret Service provider (for example gnome-keyring or KWallet) in your "
        "desktop session, so that DBUS_SESSION_BUS_ADDRESS is set and the service answers."
    )


def _insecure_reason(backend: KeyringBackend) -> str | None:
    """Why this (non-chainer) backend must not be used, or None if it is a real keyring."""
    module = type(backend).__module__
    name = type(backend).__name__.lower()
    if module == "keyring.backends.fail" or module == "keyring.backends.null":
        return f"No system keyring is available ({_backend_name(backend)} was selected). {_install_hint()}"
    if module.startswith(_INSECURE_MODULE_PREFIXES) or any(m in name for m in _INSECURE_NAME_MARKERS):
        return (
            f"The configured keyring backend {_backend_name(backend)} keeps secrets in a file under your "
            "home directory (plain, base64 or protected by a password typed on the terminal), so the app "
            "will not use it. Unset PYTHON_KEYRING_BACKEND / the keyringrc 'default-keyring' setting, or "
            f"uninstall keyrings.alt. {_install_hint()}"
        )
    return None


def _redact(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text


def _describe_error(exc: BaseException, secret: str | None = None) -> str:
    """A reason for the user built from a keyring error; the secret, if given, is masked out."""
    detail = _redact(str(exc), secret).strip()
    kind = type(exc).__name__
    if isinstance(exc, KeyringLocked):
        return (
            f"The system keyring is locked and could not be unlocked ({detail or kind}). The unlock prompt "
            "was dismissed or could not be shown. Unlock your login keyring (log in to the desktop session, "
            "or run your keyring's unlock command) and try again."
        )
    if isinstance(exc, NoKeyringError):
        return f"No system keyring is available ({kind}). {_install_hint()}"
    return f"The system keyring reported an error ({kind}: {detail or 'no details'})."


class SecretStore:
    """Secrets by account name, under the service name ``assistant-app``.

    ``backend`` is a ``keyring.backend.KeyringBackend``; by default the one keyring selects for this
    environment (``keyring.get_keyring()``). A chainer backend is narrowed to its first secure member,
    so a plaintext backend further down the chain can never receive a secret.
    """

    SERVICE = "assistant-app"

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend: KeyringBackend = backend if backend is not None else keyring.get_keyring()
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self._logged_reasons: set[str] = set()

    # ----- backend selection -------------------------------------------------------------------

    @property
    def backend(self) -> KeyringBackend:
        """The backend this store was given (or keyring's default)."""
        return self._backend

    def active_backend(self) -> KeyringBackend | None:
        """The backend secrets actually go to, or None when no secure keyring is configured."""
        backend, _ = self._resolve()
        return backend

    def _resolve(self) -> tuple[KeyringBackend | None, str]:
        """(secure backend or None, reason when None). No I/O beyond what keyring does to list backends."""
        backend = self._backend
        if not isinstance(backend, ChainerBackend):
            reason = _insecure_reason(backend)
            return (None, reason) if reason else (backend, "")
        try:
            members = list(backend.backends)
        except Exception as exc:  # a broken third-party backend must not crash the app
            return None, f"Could not list the keyring backends ({type(exc).__name__}). {_install_hint()}"
        rejected: list[str] = []
        for member in members:
            if _insecure_reason(member) is None:
                return member, ""
            rejected.append(_backend_name(member))
        if not rejected:
            return None, f"No system keyring is available (the keyring chain is empty). {_install_hint()}"
        return None, (
            "Only file-based keyring backends are installed (" + ", ".join(rejected) + "); the app will not "
            "put keys in a file. " + _install_hint()
        )

    # ----- status ------------------------------------------------------------------------------

    def status(self, *, probe: bool = True) -> tuple[bool, str]:
        """(usable, human reason).

        With ``probe`` (the default) the keyring is asked for a value that does not exist, which is
        what reveals a missing daemon (NoKeyringError, D-Bus errors) or a locked collection
        (KeyringLocked). On a desktop a locked keyring may show its unlock prompt here.
        """
        backend, reason = self._resolve()
        if backend is None:
            return False, f"{reason} {_keep_for_session_hint()}"
        if probe:
            try:
                backend.get_password(self.SERVICE, "__assistant_app_probe__")
            except Exception as exc:
                return False, f"{_describe_error(exc)} {_keep_for_session_hint()}"
        return True, f"Keys are stored in the system keyring ({_backend_name(backend)})."

    # ----- operations --------------------------------------------------------------------------

    def get(self, account: str) -> str | None:
        """The session-only value if there is one, else the keyring's; None if absent or unreadable."""
        self._check_account(account)
        with self._lock:
            value = self._session.get(account)
        if value is not None:
            return value
        backend, reason = self._resolve()
        if backend is None:
            self._log_once(f"Secret {account!r} not read: {reason}")
            return None
        try:
            return backend.get_password(self.SERVICE, account)
        except Exception as exc:
            self._log_once(f"Secret {account!r} not read: {_describe_error(exc)}")
            return None

    def set(self, account: str, secret: str, *, session_only: bool = False) -> None:
        """Store ``secret``. ``session_only`` keeps it in this process's memory only.

        Otherwise it goes to the keyring and any session-only value for the account is dropped;
        ``KeyringUnavailable`` explains why when that is impossible (nothing is stored then).
        """
        self._check_account(account)
        if not isinstance(secret, str) or not secret:
            raise ValueError("The secret must be a non-empty string.")
        if session_only:
            with self._lock:
                self._session[account] = secret
            return
        backend, reason = self._resolve()
        if backend is None:
            raise KeyringUnavailable(f"{reason} {_keep_for_session_hint()}")
        try:
            backend.set_password(self.SERVICE, account, secret)
        except Exception as exc:
            failure = _describe_error(exc, secret)
        else:
            with self._lock:
                self._session.pop(account, None)
            return
        # Raised outside the handler so the backend's exception is not even kept as __context__.
        raise KeyringUnavailable(f"{failure} {_keep_for_session_hint()}")

    def delete(self, account: str) -> None:
        """Forget the secret in memory and in the keyring. A missing entry is not an error.

        If no secure keyring is configured there is nothing stored to delete. A keyring that is
        configured but fails (locked, daemon gone) raises ``KeyringUnavailable``, because the user
        believes the key is gone and it is not.
        """
        self._check_account(account)
        with self._lock:
            self._session.pop(account, None)
        backend, _ = self._resolve()
        if backend is None:
            return
        try:
            backend.delete_password(self.SERVICE, account)
        except PasswordDeleteError:
            return
        except Exception as exc:
            failure = _describe_error(exc)
        else:
            return
        raise KeyringUnavailable(f"The key could not be removed from the system keyring. {failure}")

    def is_session_only(self, account: str) -> bool:
        """True when the account's current value lives only in this process's memory."""
        with self._lock:
            return account in self._session

    # ----- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _check_account(account: str) -> None:
        if not isinstance(account, str) or not account:
            raise ValueError("The account name must be a non-empty string.")

    def _log_once(self, message: str) -> None:
        # A UI may call get() on every request; one warning per distinct reason is enough.
        if message in self._logged_reasons:
            log.debug("%s", message)
            return
        self._logged_reasons.add(message)
        log.warning("%s", message)
