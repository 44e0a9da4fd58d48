"""Keep secrets out of logs: a logging filter and header redaction."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

_SENSITIVE_HEADERS = {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie", "set-cookie"}
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:authorization|api-key|x-api-key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
]
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line containing it is redacted."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def redact_text(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    for pat in _PATTERNS:
        replacement = (lambda m: m.group(1) + "[REDACTED]") if pat.groups else "[REDACTED]"
        text = pat.sub(replacement, text)
    return text


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: ("[REDACTED]" if k.lower() in _SENSITIVE_HEADERS else v) for k, v in items}


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets removed (attach to every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        cleaned = redact_text(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exceptions are formatted later by the handler; pre-format and redact now.
            import traceback

            formatted = "".join(traceback.format_exception(*record.exc_info))
            record.msg = f"{record.msg}\n{redact_text(formatted)}"
            record.exc_info = None
            record.exc_text = None
        return True
