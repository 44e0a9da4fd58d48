"""An in-memory keyring backend for UI tests (real Secret Service tests live in test_secrets_real.py)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    # keyring registers every subclass globally and would chain this one into its automatic choice
    # for the rest of the process; a priority that raises keeps it out.
    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test double, never auto-selected")

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.values:
            raise PasswordDeleteError("not found")
        del self.values[(service, username)]
