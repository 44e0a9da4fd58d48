"""The chat engine: turns a conversation into a streamed, saved reply. No Qt.

Used by the window's controller and by the ``chat`` CLI command alike. Every update comes out
as an event; the reply is saved while it streams (at least once a second) and on every way
out: finished, stopped (task cancelled), or failed (partial text kept, status ``incomplete``
or ``error``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant_app.api import errors as E
from assistant_app.core.attachments import AttachmentError, AttachmentStore, is_stored_image
from assistant_app.core.attachments import data_url as attachment_data_url
from assistant_app.core.store import Message, NotFoundError, Store

if TYPE_CHECKING:  # the HTTP stack (httpx) loads on first use, not at start-up
    from assistant_app.api.chat import Usage
    from assistant_app.api.client import OpenAIClient, RetryNotice

SAVE_INTERVAL = 0.5
CONTINUE_PROMPT = "Continue your previous reply exactly where it stopped. Do not repeat anything already written."


@dataclass(frozen=True)
class ReplyStarted:
    message: Message


@dataclass(frozen=True)
class ReplyDelta:
    message_id: int
    text: str


@dataclass(frozen=True)
class ReplyFinished:
    message: Message


@dataclass(frozen=True)
class ReplyFailed:
    message: Message
    error: E.APIError


ReplyEvent = ReplyStarted | ReplyDelta | ReplyFinished | ReplyFailed
RetryListener = Callable[[int, "RetryNotice"], None]


@dataclass
class ChatOptions:
    model: str
    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


def message_payload(message: Message, attachments: AttachmentStore | None = None) -> dict[str, Any]:
    """One stored message as a chat-completions message (text, plus images when attached).

    Images are read from the attachment store (default: the app's) and sent as data URLs. An image
    whose file is gone becomes a short note instead of failing the whole request.
    """
    images = [a for a in (message.attachments or []) if is_stored_image(a)]
    if message.role == "user" and images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        for a in images:
            try:
                url = attachment_data_url(a, attachments)
            except AttachmentError:
                parts.append({"type": "text", "text": f"[Image “{a.get('name', 'image')}” is unavailable.]"})
                continue
            parts.append({"type": "image_url", "image_url": {"url": url, "detail": a.get("detail", "auto")}})
        return {"role": "user", "content": parts}
    return {"role": message.role, "content": message.content}


def build_messages(path: list[Message], system_prompt: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if system_prompt.strip():
        out.append({"role": "system", "content": system_prompt})
    for m in path:
        if m.role == "assistant" and not m.content:
            continue  # a failed reply with nothing received adds nothing
        out.append(message_payload(m))
    return out


def title_from(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    if not line:
        return "New chat"
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class ChatService:
    """Sends conversations to the model and keeps the store in step with what the user sees."""

    def __init__(
        self,
        store: Store,
        client: Callable[[], OpenAIClient],
    ) -> None:
        self.store = store
        self._client = client

    def options_for(self, conversation_id: int, defaults: ChatOptions) -> ChatOptions:
        try:
            conv = self.store.get_conversation(conversation_id)
        except NotFoundError:
            return defaults
        return ChatOptions(
            model=conv.model or defaults.model,
            system_prompt=conv.system_prompt if conv.system_prompt else defaults.system_prompt,
            temperature=conv.temperature if conv.temperature is not None else defaults.temperature,
            top_p=conv.top_p if conv.top_p is not None else defaults.top_p,
            max_tokens=conv.max_tokens if conv.max_tokens is not None else defaults.max_tokens,
        )

    def add_user_message(
        self, conversation_id: int, text: str, *, parent_id: int | None, attachments: list[dict] | None = None
    ) -> Message:
        """Saved before anything is sent, so the typed text survives every failure."""
        msg = self.store.add_message(conversation_id, "user", text, parent_id=parent_id, attachments=attachments)
        conv = self.store.get_conversation(conversation_id)
        if conv.title in ("", "New chat") and parent_id is None:
            self.store.rename_conversation(conversation_id, title_from(text))
        return msg

    async def generate(
        self, conversation_id: int, parent_id: int, options: ChatOptions, on_retry: RetryListener | None = None
    ) -> AsyncIterator[ReplyEvent]:
        """A new assistant reply under ``parent_id`` (a user message): send, regenerate, retry."""
        messages = build_messages(self._path_through(parent_id), options.system_prompt)
        reply = self.store.add_message(
            conversation_id, "assistant", "", parent_id=parent_id, status="streaming", model=options.model
        )
        # aclosing: closing this generator early closes the run now, which saves the reply as stopped.
        async with aclosing(self._run(reply, messages, options, prefix="", on_retry=on_retry)) as run:
            async for event in run:
                yield event

    async def continue_reply(
        self, message_id: int, options: ChatOptions, on_retry: RetryListener | None = None
    ) -> AsyncIterator[ReplyEvent]:
        """Ask the model to carry on from an incomplete reply; new text is appended to it."""
        messages = build_messages(self._path_through(message_id), options.system_prompt)
        messages.append({"role": "user", "content": CONTINUE_PROMPT})
        self.store.update_message(message_id, status="streaming", error=None)
        reply = self.store.get_message(message_id)
        async with aclosing(self._run(reply, messages, options, prefix=reply.content, on_retry=on_retry)) as run:
            async for event in run:
                yield event

    def _path_through(self, message_id: int) -> list[Message]:
        """Activate the branch through ``message_id`` and return the path from the root down to it.

        Not below it: when regenerating, the older replies under ``message_id`` must not be sent.
        """
        path = self.store.switch_to(message_id)
        return path[: [m.id for m in path].index(message_id) + 1]

    async def _run(
        self,
        reply: Message,
        messages: list[dict[str, Any]],
        options: ChatOptions,
        *,
        prefix: str,
        on_retry: RetryListener | None,
    ) -> AsyncIterator[ReplyEvent]:
        from assistant_app.api.chat import Finished, TextDelta, UsageReport, build_chat_request, stream_chat

        body = build_chat_request(
            options.model,
            messages,
            temperature=options.temperature,
            top_p=options.top_p,
            max_completion_tokens=options.max_tokens,
        )
        parts: list[str] = [prefix] if prefix else []
        usage: Usage | None = None
        finish: str | None = None
        started = time.monotonic()
        first_token: float | None = None
        last_save = started
        chunks = 0
        status = "error"
        error: E.APIError | None = None

        def retrying(notice: RetryNotice) -> None:
            if on_retry is not None:
                on_retry(reply.id, notice)

        def save(final_status: str, err: str | None = None) -> None:
            ended = time.monotonic()
            fields: dict[str, Any] = {"content": "".join(parts), "status": final_status, "error": err}
            if first_token is not None:
                fields["ttft_ms"] = (first_token - started) * 1000
                generated = usage.completion_tokens if usage and usage.completion_tokens else chunks
                span = ended - first_token
                if generated and span > 0:
                    fields["tokens_per_s"] = generated / span
            if usage is not None:
                fields.update(
                    prompt_tokens=usage.prompt_tokens,
                    cached_tokens=usage.cached_tokens,
                    completion_tokens=usage.completion_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                )
            if finish is not None:
                fields["finish_reason"] = finish
            self.store.update_message(reply.id, **fields)

        # Tagged so the usage log links this call to the reply it produced.
        client = self._client().tagged(conversation_id=reply.conversation_id, message_id=reply.id)
        stream = stream_chat(client, body, on_retry=retrying)
        try:
            yield ReplyStarted(reply)
            async for ev in stream:
                if isinstance(ev, TextDelta):
                    if first_token is None:
                        first_token = time.monotonic()
                    chunks += 1
                    parts.append(ev.text)
                    now = time.monotonic()
                    if now - last_save >= SAVE_INTERVAL:
                        self.store.update_message(reply.id, content="".join(parts))
                        last_save = now
                    yield ReplyDelta(reply.id, ev.text)
                elif isinstance(ev, UsageReport):
                    usage = ev.usage
                elif isinstance(ev, Finished):
                    finish = ev.reason
            status = "complete"
        except (asyncio.CancelledError, GeneratorExit):  # Stop: task cancelled, or the consumer closed us
            save("stopped", "Stopped.")
            raise
        except E.APIError as exc:
            error = exc
            if isinstance(exc, E.StreamError):
                exc.partial = "".join(parts)
        except Exception as exc:  # never lose the partial reply to an unexpected bug
            error = E.APIError(f"Unexpected error: {type(exc).__name__}: {exc}")
        finally:
            await stream.aclose()
            client.end_open_calls(error.kind if error is not None else "cancelled")
        if error is None:
            save(status)
            msg = self.store.get_message(reply.id)
            yield ReplyFinished(msg)
            return
        got_text = bool("".join(parts))
        save("incomplete" if got_text else "error", error.user_message)
        msg = self.store.get_message(reply.id)
        yield ReplyFailed(msg, error)
