"""Typed errors of the API client.

Each failure kind has its own class and a message a person can act on. No message ever
contains the API key or an Authorization header: messages are built from the status, the
server's own error text and the host name only.
"""

from __future__ import annotations


class APIError(Exception):
    """Base class. ``user_message`` is what the UI shows; ``retryable`` tells the retry policy."""

    retryable = False
    kind = "error"

    def __init__(
        self,
        user_message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.detail = detail

    def __str__(self) -> str:
        extra = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.user_message}{extra}"


class ConfigurationError(APIError):
    """The provider settings cannot work (bad base URL, missing deployment...)."""

    kind = "configuration"


class AuthenticationError(APIError):
    kind = "auth"


class PermissionDeniedError(APIError):
    kind = "permission"


class NotFoundError(APIError):
    kind = "not_found"


class BadRequestError(APIError):
    kind = "bad_request"


class ContextLengthError(BadRequestError):
    kind = "context_length"


class ContentPolicyError(BadRequestError):
    """The server refused the prompt or image under its content policy (``content_policy_violation``,
    ``moderation_blocked``). Retrying the same request cannot help; rewording can."""

    kind = "content_policy"


class InvalidOptionsError(BadRequestError):
    """Refused before sending: an option the chosen model does not support (size, quality, n...)."""

    kind = "invalid_options"


class ConflictError(APIError):
    retryable = True
    kind = "conflict"


class UnprocessableEntityError(APIError):
    kind = "unprocessable"


class RateLimitError(APIError):
    retryable = True
    kind = "rate_limit"


class QuotaExceededError(RateLimitError):
    """429 with ``insufficient_quota``: the user must act, retrying cannot help."""

    retryable = False
    kind = "quota"


class ServerError(APIError):
    retryable = True
    kind = "server"


class RequestTimeoutError(APIError):
    """The server did not answer (connect/read timeout before any data)."""

    retryable = True
    kind = "timeout"


class ConnectionFailedError(APIError):
    """Connection refused, DNS failure, reset before the response."""

    retryable = True
    kind = "connection"


class TLSError(ConnectionFailedError):
    retryable = False
    kind = "tls"


class ProxyError(ConnectionFailedError):
    kind = "proxy"


class NotCompatibleError(APIError):
    """The server answered, but not like an OpenAI-compatible API (HTML, wrong JSON...)."""

    kind = "not_compatible"


class StreamError(APIError):
    """A stream failed after it started. ``partial`` holds the text received so far."""

    kind = "stream"

    def __init__(self, user_message: str, *, partial: str = "", **kw) -> None:
        super().__init__(user_message, **kw)
        self.partial = partial


class StreamInterruptedError(StreamError):
    """The connection dropped or ended before the reply was finished."""

    kind = "interrupted"


class StreamStalledError(StreamError):
    """No data arrived for longer than the read timeout."""

    kind = "stalled"


class MalformedStreamError(StreamError):
    """A chunk could not be parsed."""

    kind = "malformed"


class ServerStreamError(StreamError):
    """The server sent an ``{"error": ...}`` event inside the stream."""

    kind = "server_stream"
