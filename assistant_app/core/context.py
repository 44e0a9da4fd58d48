"""The Qt-free services of one app process, shared by the window and the CLI."""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assistant_app.api.redact import RedactingFilter
from assistant_app.core.chat import ChatOptions, ChatService
from assistant_app.core.paths import AppPaths, app_paths
from assistant_app.core.providers import endpoint_for
from assistant_app.core.settings import ProviderProfile, Settings, load_settings, save_settings
from assistant_app.core.store import Store

if TYPE_CHECKING:
    # Loaded on first use, so the window can show before the HTTP stack, keyring and usage modules.
    import httpx

    from assistant_app.api.client import OpenAIClient
    from assistant_app.core.budget import Budgets
    from assistant_app.core.ratelimit import ProviderGuard
    from assistant_app.core.secrets import SecretStore
    from assistant_app.core.usage import UsageLog


def setup_logging(paths: AppPaths, level: int = logging.INFO) -> None:
    """Rotating log file in the logs directory; every handler redacts secrets."""
    root = logging.getLogger()
    if any(getattr(h, "_assistant_app", False) for h in root.handlers):
        return
    handler = logging.handlers.RotatingFileHandler(
        paths.logs / "assistant-app.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler._assistant_app = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


@dataclass
class AppContext:
    paths: AppPaths
    settings: Settings
    store: Store
    secrets_override: SecretStore | None = None
    http: httpx.AsyncClient | None = None
    _clients: dict[Any, OpenAIClient] = field(default_factory=dict)
    # Rate limiter + circuit breaker per provider id; they outlive the clients (settings changes).
    guards: dict[str, ProviderGuard] = field(default_factory=dict)

    @cached_property
    def secrets(self) -> SecretStore:
        if self.secrets_override is not None:
            return self.secrets_override
        from assistant_app.core.secrets import SecretStore

        return SecretStore()

    @cached_property
    def usage(self) -> UsageLog:
        from assistant_app.core.pricing import USER_FILE_NAME, PriceTable
        from assistant_app.core.usage import UsageLog

        return UsageLog(self.store, PriceTable.load(self.paths.config / USER_FILE_NAME))

    @classmethod
    def create(cls, *, secrets: SecretStore | None = None, log: bool = True) -> AppContext:
        paths = app_paths().ensure()
        if log:
            setup_logging(paths)
        settings = load_settings(paths.settings_file)
        store = Store(paths.database)
        return cls(paths=paths, settings=settings, store=store, secrets_override=secrets)

    def save_settings(self) -> None:
        save_settings(self.paths.settings_file, self.settings)

    @property
    def provider(self) -> ProviderProfile:
        return self.settings.provider()

    def http_client(self) -> httpx.AsyncClient:
        """The one shared AsyncClient (created on first use, on the running loop)."""
        if self.http is None:
            from assistant_app.api.client import make_http_client

            self.http = make_http_client(self.settings.read_timeout)
        return self.http

    def guard_for(self, profile: ProviderProfile) -> ProviderGuard:
        """The provider's guard; user limits come from ``settings.extra["rate_limits"][id]`` (rpm/tpm)."""
        guard = self.guards.get(profile.id)
        if guard is None:
            from assistant_app.core.ratelimit import CircuitBreaker, ProviderGuard, RateLimiter

            limits = (self.settings.extra.get("rate_limits") or {}).get(profile.id) or {}
            guard = ProviderGuard(
                RateLimiter(rpm=limits.get("rpm"), tpm=limits.get("tpm")),
                CircuitBreaker(profile.name or profile.id),
            )
            self.guards[profile.id] = guard
        return guard

    def client(self, profile: ProviderProfile | None = None) -> OpenAIClient:
        """A client for the active (or given) provider; all share one httpx.AsyncClient."""
        profile = profile or self.provider
        endpoint = endpoint_for(profile, self.secrets)
        key = (endpoint, self.settings.max_retries, self.settings.read_timeout)
        client = self._clients.get(key)
        if client is None:
            from assistant_app.api.client import OpenAIClient

            self._clients.clear()
            client = OpenAIClient(
                endpoint,
                http=self.http_client(),
                max_retries=self.settings.max_retries,
                read_timeout=self.settings.read_timeout,
            )
            client.observers.append(self.usage.observer(profile.id))
            client.guard = self.guard_for(profile)
            self._clients[key] = client
        return client

    def budgets(self) -> Budgets:
        from assistant_app.core.budget import Budgets

        return Budgets(self.settings, self.usage)

    def chat_service(self) -> ChatService:
        return ChatService(self.store, self.client)

    def default_options(self) -> ChatOptions:
        s = self.settings
        model = self.provider.default_model or s.default_model
        return ChatOptions(
            model=model,
            system_prompt=s.system_prompt,
            temperature=s.temperature,
            top_p=s.top_p,
            max_tokens=s.max_tokens,
        )

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None
        self._clients.clear()

    def close(self) -> None:
        self.store.close()
