"""A throw-away app context holding generated usage calls, for the Usage window's bench and screenshot.

Calls come from ``bench_usage.make_calls`` (deterministic for a seed): several providers and
models, a few failures, and models with no known price (so "unknown" shows up too).
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from bench_usage import make_calls  # same folder: bench/ is sys.path[0] when a bench script runs
from keyring.backends.null import Keyring as NullKeyring

from assistant_app.core.context import AppContext
from assistant_app.core.secrets import SecretStore
from assistant_app.core.settings import ProviderProfile

PROVIDERS = (
    ProviderProfile(id="openai", name="OpenAI", kind="openai", default_model="gpt-4o-mini"),
    ProviderProfile(
        id="ollama", name="Ollama (local)", kind="compatible", base_url="http://127.0.0.1:11434/v1", needs_key=False
    ),
    ProviderProfile(id="openrouter", name="OpenRouter", kind="compatible", base_url="https://openrouter.ai/api/v1"),
)


def usage_context(calls: int, days: int = 30, seed: int = 7, home: Path | None = None) -> AppContext:
    """An ``AppContext`` in a fresh home directory with ``calls`` recorded calls over ``days`` days."""
    home = home or Path(tempfile.mkdtemp(prefix="usage-bench-"))
    os.environ["ASSISTANT_APP_HOME"] = str(home)
    ctx = AppContext.create(secrets=SecretStore(backend=NullKeyring()), log=False)
    ctx.settings.providers = [ProviderProfile(**vars(p)) for p in PROVIDERS]
    by_provider: dict[str, list] = {}
    for provider, record in make_calls(calls, days, random.Random(seed)):
        by_provider.setdefault(provider, []).append(record)
    for provider, records in by_provider.items():
        ctx.usage.record_many(records, provider_id=provider)
    return ctx
