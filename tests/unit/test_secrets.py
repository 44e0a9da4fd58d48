"""SecretStore against an in-memory keyring backend, keyring's own fail backend, and broken backends."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.backends.chainer import ChainerBackend
from keyring.compat import properties
from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError

from assistant_app.core.secrets import KeyringUnavailable, SecretStore

SECRET = "sk-unit-7f3a9c1e5b2d4680"


class _NotAutoSelected:
    """keyring registers every backend subclass globally; a priority that raises keeps these test
    doubles out of keyring's automatic selection for the rest of the test process."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test double, never auto-selected")


class MemoryKeyring(_NotAutoSelected, KeyringBackend):
    """A real KeyringBackend subclass that keeps entries in a dict and behaves like SecretService
    on a missing delete (PasswordDeleteError)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append("delete")
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("No such password!")


class LockedKeyring(_NotAutoSelected, KeyringBackend):
    """What SecretService does when the collection is locked and no prompt can be shown."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class NoServiceKeyring(_NotAutoSelected, KeyringBackend):
    """A backend whose daemon has gone away."""

    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("the service vanished")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NoKeyringError("the service vanished")


class LeakyKeyring(_NotAutoSelected, KeyringBackend):
    """A badly behaved backend that puts the value it was given into its error message."""

    def get_password(self, service: str, username: str) -> str | None:
        raise OSError("read failed")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise OSError(f"could not write {password!r} to disk")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (keyrings.alt is not a dependency)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class EncryptedKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.EncryptedKeyring: a file plus a master password on stdin."""


EncryptedKeyring.__module__ = "keyrings.alt.file"


class FixedChainer(ChainerBackend):
    """keyring's chainer, with its members given instead of discovered from the environment."""

    viable = False

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test double, never auto-selected")

    def __init__(self, members: list[KeyringBackend]) -> None:
        super().__init__()
        self._members = members

    @property
    def backends(self) -> list[KeyringBackend]:  # type: ignore[override]
        return self._members


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


# ----- working keyring -------------------------------------------------------------------------


def test_round_trip_goes_to_the_keyring_under_the_service_name(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", SECRET)
    assert memory.entries == {("assistant-app", "openai"): SECRET}
    assert store.get("openai") == SECRET
    assert not store.is_session_only("openai")
    # A second store (a restarted app) reads it back from the keyring.
    assert SecretStore(memory).get("openai") == SECRET


def test_status_names_the_backend_when_usable(memory: MemoryKeyring) -> None:
    usable, reason = SecretStore(memory).status()
    assert usable
    assert "MemoryKeyring" in reason
    assert memory.calls == ["get"]  # the probe really asked the backend


def test_status_without_probe_does_not_touch_the_backend(memory: MemoryKeyring) -> None:
    assert SecretStore(memory).status(probe=False)[0]
    assert memory.calls == []


def test_missing_account_is_none(memory: MemoryKeyring) -> None:
    assert SecretStore(memory).get("nobody") is None


def test_session_only_stays_in_memory(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", SECRET, session_only=True)
    assert store.get("openai") == SECRET
    assert store.is_session_only("openai")
    assert memory.entries == {}
    assert "set" not in memory.calls
    assert SecretStore(memory).get("openai") is None  # gone after a "restart"


def test_session_value_wins_over_keyring(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", "sk-stored-one")
    store.set("openai", "sk-session-one", session_only=True)
    assert store.get("openai") == "sk-session-one"
    assert memory.entries[("assistant-app", "openai")] == "sk-stored-one"


def test_saving_to_keyring_ends_session_only(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", "sk-session-one", session_only=True)
    store.set("openai", SECRET)
    assert not store.is_session_only("openai")
    assert store.get("openai") == SECRET


def test_delete_removes_both_and_missing_is_fine(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", SECRET)
    store.set("openai", "sk-session-one", session_only=True)
    store.delete("openai")
    assert store.get("openai") is None
    assert not store.is_session_only("openai")
    assert memory.entries == {}
    store.delete("openai")  # nothing left: no error
    store.delete("never-existed")


def test_accounts_are_independent(memory: MemoryKeyring) -> None:
    store = SecretStore(memory)
    store.set("openai", "sk-a")
    store.set("local", "sk-b", session_only=True)
    store.delete("openai")
    assert store.get("local") == "sk-b"
    assert store.get("openai") is None


@pytest.mark.parametrize("account", ["", None])
def test_account_must_be_a_non_empty_string(memory: MemoryKeyring, account: object) -> None:
    with pytest.raises(ValueError):
        SecretStore(memory).get(account)  # type: ignore[arg-type]


def test_empty_secret_is_refused(memory: MemoryKeyring) -> None:
    with pytest.raises(ValueError):
        SecretStore(memory).set("openai", "")
    assert memory.entries == {}


def test_default_backend_is_keyrings_choice(memory: MemoryKeyring) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    try:
        store = SecretStore()
        assert store.backend is memory
        store.set("openai", SECRET)
    finally:
        keyring.set_keyring(previous)
    assert memory.entries[("assistant-app", "openai")] == SECRET


# ----- no keyring: keyring's own fail backend ------------------------------------------------


def test_fail_backend_is_not_usable_and_says_what_to_do() -> None:
    usable, reason = SecretStore(fail.Keyring()).status()
    assert not usable
    assert "No system keyring" in reason
    assert "Secret Service" in reason or "Keychain" in reason or "Credential Manager" in reason
    assert "session only" in reason


def test_fail_backend_set_raises_clear_error_without_the_secret() -> None:
    store = SecretStore(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as info:
        store.set("openai", SECRET)
    assert "No system keyring" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value.args)
    assert not store.is_session_only("openai")


def test_fail_backend_get_is_none_and_logs_reason_without_secret(caplog: pytest.LogCaptureFixture) -> None:
    store = SecretStore(fail.Keyring())
    store.set("openai", SECRET, session_only=True)
    store.delete("openai")
    with caplog.at_level(logging.DEBUG, logger="assistant_app.core.secrets"):
        assert store.get("openai") is None
    assert any("No system keyring" in r.getMessage() for r in caplog.records)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_fail_backend_still_allows_session_only() -> None:
    store = SecretStore(fail.Keyring())
    store.set("openai", SECRET, session_only=True)
    assert store.get("openai") == SECRET
    assert store.is_session_only("openai")
    store.delete("openai")  # nothing in a keyring that does not exist: fine
    assert store.get("openai") is None


def test_fail_backend_through_real_keyring_call_path() -> None:
    """The fail backend really raises NoKeyringError; the store turns that into status, not a crash."""
    with pytest.raises(NoKeyringError):
        fail.Keyring().get_password("assistant-app", "x")
    assert SecretStore(fail.Keyring()).get("x") is None


# ----- locked / vanished / misbehaving keyrings --------------------------------------------------


def test_locked_keyring_is_reported_as_locked() -> None:
    store = SecretStore(LockedKeyring())
    usable, reason = store.status()
    assert not usable
    assert "locked" in reason.lower()
    with pytest.raises(KeyringUnavailable, match="locked"):
        store.set("openai", SECRET)
    assert store.get("openai") is None


def test_locked_keyring_delete_raises_because_key_would_remain() -> None:
    with pytest.raises(KeyringUnavailable, match="could not be removed"):
        SecretStore(LockedKeyring()).delete("openai")


def test_vanished_service_is_reported() -> None:
    store = SecretStore(NoServiceKeyring())
    usable, reason = store.status()
    assert not usable
    assert "No system keyring" in reason
    with pytest.raises(KeyringUnavailable):
        store.set("openai", SECRET)


def test_backend_error_text_is_redacted_and_not_chained() -> None:
    store = SecretStore(LeakyKeyring())
    with pytest.raises(KeyringUnavailable) as info:
        store.set("openai", SECRET)
    err = info.value
    assert "OSError" in str(err)
    assert "***" in str(err)
    assert SECRET not in str(err)
    assert err.__cause__ is None
    assert err.__context__ is None


def test_get_errors_are_logged_once_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    store = SecretStore(LeakyKeyring())
    with caplog.at_level(logging.WARNING, logger="assistant_app.core.secrets"):
        assert store.get("openai") is None
        assert store.get("openai") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "read failed" in warnings[0].getMessage()


# ----- file-based backends are refused ---------------------------------------------------------


@pytest.mark.parametrize("cls", [PlaintextKeyring, EncryptedKeyring])
def test_file_backends_are_not_usable(cls: type[MemoryKeyring]) -> None:
    backend = cls()
    store = SecretStore(backend)
    usable, reason = store.status()
    assert not usable
    assert "keyrings.alt.file" in reason
    assert "file" in reason
    with pytest.raises(KeyringUnavailable):
        store.set("openai", SECRET)
    assert backend.entries == {}
    assert backend.calls == []  # not even probed or read
    assert store.get("openai") is None


def test_chainer_uses_only_its_secure_member(memory: MemoryKeyring) -> None:
    plain = PlaintextKeyring()
    plain.entries[("assistant-app", "openai")] = "sk-from-a-file"
    store = SecretStore(FixedChainer([plain, memory]))
    assert store.active_backend() is memory
    assert store.status()[0]
    assert store.get("openai") is None  # the file's value is never read
    store.set("openai", SECRET)
    assert memory.entries[("assistant-app", "openai")] == SECRET
    assert plain.entries == {("assistant-app", "openai"): "sk-from-a-file"}
    store.delete("openai")
    assert memory.entries == {}


def test_chainer_of_only_file_backends_is_not_usable() -> None:
    plain, encrypted = PlaintextKeyring(), EncryptedKeyring()
    store = SecretStore(FixedChainer([encrypted, plain]))
    usable, reason = store.status()
    assert not usable
    assert "file-based" in reason
    assert "PlaintextKeyring" in reason and "EncryptedKeyring" in reason
    with pytest.raises(KeyringUnavailable):
        store.set("openai", SECRET)
    assert plain.entries == {} and encrypted.entries == {}


def test_empty_chainer_is_not_usable() -> None:
    store = SecretStore(FixedChainer([]))
    usable, reason = store.status()
    assert not usable
    assert "No system keyring" in reason
    assert store.active_backend() is None
