"""Where requests go and how they authenticate, for OpenAI, Azure OpenAI and compatible servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from assistant_app.api.errors import ConfigurationError

OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Endpoint:
    """Connection facts of one provider. ``api_key`` is held in memory only."""

    base_url: str = OPENAI_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    kind: str = "openai"  # openai | azure | compatible
    azure_deployment: str = ""
    azure_api_version: str = "2024-10-21"
    organization: str = ""
    project: str = ""

    def validate(self) -> None:
        address = self.base_url.strip()
        try:
            parts = urlsplit(address)
            _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # "http://[::1/v1", "http://host:notaport", "http://host:99999"
            valid = False
        if not valid or any(ch.isspace() for ch in address):
            raise ConfigurationError(
                f"“{self.base_url}” is not a valid server address. It should look like "
                "https://api.openai.com/v1 or http://localhost:11434/v1."
            )
        if self.kind == "azure" and not self.azure_deployment:
            raise ConfigurationError("Azure OpenAI needs a deployment name (Settings → Providers).")

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def url(self, path: str) -> tuple[str, dict[str, str]]:
        """Full URL and query parameters for an API path such as ``/chat/completions``."""
        base = self.base_url.strip().rstrip("/")
        if self.kind == "azure":
            if path == "/models":
                return f"{base}/openai/models", {"api-version": self.azure_api_version}
            return (
                f"{base}/openai/deployments/{self.azure_deployment}{path}",
                {"api-version": self.azure_api_version},
            )
        return f"{base}{path}", {}

    def auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.api_key:
            if self.kind == "azure":
                headers["api-key"] = self.api_key
            else:
                headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        return headers
