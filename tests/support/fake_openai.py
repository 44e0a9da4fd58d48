"""A real HTTP server on 127.0.0.1 that speaks the OpenAI wire format, for tests and benchmarks.

It runs an asyncio loop in a background thread, so sync tests, async tests and a qasync client
on another loop can all talk to it::

    with FakeOpenAI() as srv:
        srv.chat_reply = "Hello there"
        srv.enqueue_fault(Fault.rate_limited(), times=2)   # first two requests get 429
        ...  # point the client at srv.base_url ("http://127.0.0.1:PORT/v1")
        third = srv.wait_for_requests(3)[2]

Endpoints (also under Azure's ``/openai/deployments/{dep}/...?api-version=``): GET /v1/models,
POST /v1/chat/completions, /v1/images/generations, /v1/images/edits, /v1/audio/transcriptions.
Everything a test may tune is a plain attribute, read per request (see ``__init__`` here and in
fake_core.FakeServerCore); faults are built with fake_faults.Fault.

CLI: ``python -m tests.support.fake_openai --port 0`` prints ``READY <base_url>`` and serves until
SIGTERM, SIGINT or (when stdin is a pipe or terminal) stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import signal
import stat
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from tests.support import fake_content as content
from tests.support.fake_core import (
    DEFAULT_RATELIMIT_HEADERS,
    Exchange,
    FakeServerCore,
    RecordedRequest,
    StreamEvent,
    operation_for,
    route_path,
)
from tests.support.fake_faults import Fault, FaultKind

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_RATELIMIT_HEADERS",
    "FakeOpenAI",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "main",
    "operation_for",
    "route_path",
]

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-image-1", "dall-e-3", "whisper-1", "gpt-4o-transcribe")


class FakeOpenAI(FakeServerCore):
    """The fake OpenAI server.  Attributes are read per request, so a test may change them at any time."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        chat_reply: str | Callable[[dict[str, Any]], str] | None = None,
        tokens_per_second: float | None = None,
        models: Iterable[str] = DEFAULT_MODELS,
    ) -> None:
        super().__init__(host, port, api_key=api_key)
        self.models: list[str] = list(models)
        self.reject_unknown_models = False  # 404 model_not_found for models not in self.models
        self.chat_reply = chat_reply  # None: "Echo: <last user text>"; or a str; or body -> str
        self.tokens_per_second = tokens_per_second  # None: as fast as possible
        self.first_token_delay = 0.0  # extra seconds before the first content event
        self.cached_tokens = 0  # reported in usage.prompt_tokens_details.cached_tokens
        self.azure_first_chunk: bool | None = None  # choices: [] first chunk; None = on Azure paths only
        self.transcription_text: str | Callable[[RecordedRequest], str] = content.DEFAULT_TRANSCRIPT
        self.transcription_stream_done_marker = False  # also send "data: [DONE]" after transcript.text.done
        self.image_max_side: int | None = None  # cap on real pixel dimensions (the reported size is unchanged)
        self.image_partial_delay = 0.0  # seconds before each image stream event

    def handler_for(self, method: str, op_path: str) -> Callable[[Exchange], Awaitable[None]] | None:
        return {
            ("GET", "/models"): self._models,
            ("POST", "/chat/completions"): self._chat,
            ("POST", "/images/generations"): self._images_generate,
            ("POST", "/images/edits"): self._images_edit,
            ("POST", "/audio/transcriptions"): self._transcribe,
        }.get((method, op_path))

    # ---- GET /models ---------------------------------------------------------------------
    async def _models(self, ex: Exchange) -> None:
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000 + i, "owned_by": "system"}
            for i, m in enumerate(self.models)
        ]
        await self.send_json(ex, {"object": "list", "data": data})

    # ---- POST /chat/completions ----------------------------------------------------------
    def _reply_text(self, body: dict[str, Any]) -> str:
        reply = self.chat_reply
        if reply is None:
            return content.echo_reply(body)
        return reply(body) if callable(reply) else str(reply)

    async def _check_model(self, ex: Exchange, model: str) -> bool:
        if self.reject_unknown_models and ex.deployment is None and model not in self.models:
            await self.send_error(
                ex,
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
            return False
        return True

    async def _chat(self, ex: Exchange) -> None:
        body = await self.json_body(ex)
        if body is None:
            return
        model = body.get("model") or ex.deployment
        if not model:
            await self.missing_parameter(ex, "model")
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            await self.missing_parameter(ex, "messages")
            return
        if not await self._check_model(ex, str(model)):
            return
        stream = body.get("stream") is True
        if body.get("stream_options") is not None and not stream:
            await self.send_error(
                ex,
                400,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "invalid_request_error",
                None,
                "stream_options",
            )
            return
        tokens = content.split_tokens(self._reply_text(body))
        finish = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and 0 < limit < len(tokens):
            tokens, finish = tokens[:limit], "length"
        n = body.get("n") if isinstance(body.get("n"), int) and body["n"] > 0 else 1
        usage = content.chat_usage(content.prompt_token_count(messages), len(tokens) * n, self.cached_tokens)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        common = {"id": cid, "created": created, "model": str(model)}
        if not stream:
            if self.tokens_per_second:
                await asyncio.sleep(self.first_token_delay + len(tokens) / self.tokens_per_second)
            message = {"role": "assistant", "content": "".join(tokens), "refusal": None, "annotations": []}
            choices = [
                {"index": i, "message": dict(message), "logprobs": None, "finish_reason": finish} for i in range(n)
            ]
            payload = {
                **common,
                "object": "chat.completion",
                "choices": choices,
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
            }
            await self.send_json(ex, payload)
            return
        options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
        azure_first = self.azure_first_chunk if self.azure_first_chunk is not None else ex.deployment is not None
        events = self._chat_events(common, tokens, n, finish, usage, options, azure_first)
        await self.send_stream(ex, events)

    def _chat_events(
        self,
        common: dict[str, Any],
        tokens: list[str],
        n: int,
        finish: str,
        usage: dict[str, Any],
        options: dict[str, Any],
        azure_first: bool,
    ) -> list[StreamEvent]:
        include_usage = options.get("include_usage") is True
        obfuscate = options.get("include_obfuscation") is not False
        counter = iter(range(1 << 30))

        def chunk(choices: list[dict[str, Any]], usage_value: Any = None) -> dict[str, Any]:
            out = {
                **common,
                "object": "chat.completion.chunk",
                "service_tier": "default",
                "system_fingerprint": "fp_fake0001",
                "choices": choices,
            }
            if include_usage:
                out["usage"] = usage_value
            if obfuscate:  # random padding in real life; deterministic here
                digest = hashlib.sha256(f"{common['id']}:{next(counter)}".encode()).hexdigest()
                out["obfuscation"] = digest[: 4 + int(digest[0], 16) % 9]
            return out

        def choice(i: int, delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            return {"index": i, "delta": delta, "logprobs": None, "finish_reason": reason}

        events: list[StreamEvent] = []
        if azure_first:
            filters = {k: {"filtered": False, "severity": "safe"} for k in ("hate", "self_harm", "sexual", "violence")}
            events.append(
                StreamEvent(
                    {
                        "choices": [],
                        "created": 0,
                        "id": "",
                        "model": "",
                        "object": "",
                        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters}],
                    },
                    "meta",
                )
            )
        events += [
            StreamEvent(chunk([choice(i, {"role": "assistant", "content": "", "refusal": None})]), "role")
            for i in range(n)
        ]
        tps = self.tokens_per_second
        for t, tok in enumerate(tokens):
            delay = (1.0 / tps if tps else 0.0) + (self.first_token_delay if t == 0 else 0.0)
            for i in range(n):
                events.append(
                    StreamEvent(chunk([choice(i, {"content": tok})]), "content", delay=delay if i == 0 else 0)
                )
        events += [StreamEvent(chunk([choice(i, {}, finish)]), "finish") for i in range(n)]
        if include_usage:
            events.append(StreamEvent(chunk([], usage), "usage"))
        events.append(StreamEvent("[DONE]", "done"))
        return events

    # ---- images --------------------------------------------------------------------------
    def _pixel_size(self, width: int, height: int) -> tuple[int, int]:
        cap = self.image_max_side
        if cap and max(width, height) > cap:
            scale = cap / max(width, height)
            return max(1, round(width * scale)), max(1, round(height * scale))
        return width, height

    async def _images_generate(self, ex: Exchange) -> None:
        body = await self.json_body(ex)
        if body is None:
            return
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            await self.missing_parameter(ex, "prompt")
            return
        await self._image_response(ex, body, [], "image_generation")

    async def _images_edit(self, ex: Exchange) -> None:
        rec = ex.rec
        inputs: list[bytes] = []
        if rec.form is not None:
            fields: dict[str, Any] = {k: v for k, v in rec.form.items()}
            inputs = [data for name, _, _, data in rec.file_parts if name in ("image", "image[]")]
        elif isinstance(rec.json, dict):
            fields = dict(rec.json)
            for ref in fields.get("images") or []:
                url = ref.get("image_url") if isinstance(ref, dict) else None
                if isinstance(url, str) and url.startswith("data:") and "," in url:
                    with contextlib.suppress(binascii.Error, ValueError):
                        inputs.append(base64.b64decode(url.split(",", 1)[1]))
        else:
            await self.send_error(ex, 400, "Expected a multipart/form-data or JSON body.", "invalid_request_error")
            return
        if not isinstance(fields.get("prompt"), str) or not fields["prompt"]:
            await self.missing_parameter(ex, "prompt")
            return
        if not inputs and not fields.get("images"):
            await self.missing_parameter(ex, "image")
            return
        await self._image_response(ex, fields, inputs, "image_edit")

    async def _image_response(self, ex: Exchange, fields: dict[str, Any], inputs: list[bytes], prefix: str) -> None:
        def num(name: str, default: int) -> int:
            try:
                return int(fields.get(name) if fields.get(name) is not None else default)
            except (TypeError, ValueError):
                return default

        prompt = str(fields["prompt"])
        default_model = "gpt-image-1.5" if prefix == "image_edit" else "dall-e-2"
        model = str(fields.get("model") or ex.deployment or default_model)
        gpt_image = not model.startswith("dall-e")
        stream = fields.get("stream") in (True, "true")
        partials = max(0, min(3, num("partial_images", 0)))
        n = max(1, min(10, num("n", 1)))
        base = content.decode_image(inputs[0]) if inputs else None
        default_size = base.size if base is not None else (1024, 1024)
        width, height = content.parse_size(fields.get("size"), default_size)
        fmt = str(fields.get("output_format") or "png") if gpt_image else "png"
        compression = num("output_compression", 100)
        quality = str(fields.get("quality") or "auto")
        quality = "medium" if quality in ("auto", "standard", "hd") else quality
        background = "transparent" if fields.get("background") == "transparent" else "opaque"
        size = f"{width}x{height}"
        usage = content.image_usage(prompt, len(inputs), n)

        def render() -> tuple[list[bytes], list[bytes]]:
            px = self._pixel_size(width, height)
            finals = [content.render_picture(f"{prompt}#{i}", *px, base=base) for i in range(n)]
            previews = content.progressive_versions(finals[0], partials) if stream else []
            return (
                [content.encode_image(img, fmt, compression) for img in finals],
                [content.encode_image(img, fmt, compression) for img in previews],
            )

        finals, previews = await asyncio.get_running_loop().run_in_executor(None, render)
        created = int(time.time())
        meta = {"created_at": created, "size": size, "quality": quality, "background": background, "output_format": fmt}
        if stream and gpt_image:
            events = [
                StreamEvent(
                    {
                        "type": f"{prefix}.partial_image",
                        "b64_json": base64.b64encode(img).decode(),
                        "partial_image_index": i,
                        **meta,
                    },
                    "partial",
                    f"{prefix}.partial_image",
                    self.image_partial_delay,
                )
                for i, img in enumerate(previews)
            ]
            events.append(
                StreamEvent(
                    {
                        "type": f"{prefix}.completed",
                        "b64_json": base64.b64encode(finals[0]).decode(),
                        "usage": usage,
                        **meta,
                    },
                    "final",
                    f"{prefix}.completed",
                    self.image_partial_delay,
                )
            )
            await self.send_stream(ex, events)
            return
        wants_url = not gpt_image and fields.get("response_format") != "b64_json"
        data = []
        for img in finals:
            item = (
                {"url": self.publish_blob(img, f"image/{fmt}", f".{fmt}")}
                if wants_url
                else {"b64_json": base64.b64encode(img).decode()}
            )
            if model.startswith("dall-e-3"):
                item["revised_prompt"] = f"A detailed picture of: {prompt}"
            data.append(item)
        payload: dict[str, Any] = {"created": created, "data": data}
        if gpt_image:
            payload.update(background=background, output_format=fmt, size=size, quality=quality, usage=usage)
        await self.send_json(ex, payload)

    # ---- POST /audio/transcriptions ------------------------------------------------------
    async def _transcribe(self, ex: Exchange) -> None:
        rec = ex.rec
        if rec.form is None or rec.files is None:
            await self.send_error(ex, 400, "Expected a multipart/form-data body.", "invalid_request_error")
            return
        if "file" not in rec.files:
            await self.missing_parameter(ex, "file")
            return
        model = rec.form.get("model")
        if not isinstance(model, str) or not model:
            await self.missing_parameter(ex, "model")
            return
        if not await self._check_model(ex, model):
            return
        audio = rec.files["file"][2]
        fmt = rec.form.get("response_format", "json")
        if fmt not in ("json", "text", "srt", "verbose_json", "vtt", "diarized_json"):
            await self.send_error(
                ex, 400, f"Invalid value: '{fmt}'.", "invalid_request_error", "invalid_value", "response_format"
            )
            return
        if model.startswith("gpt-4o") and fmt not in (
            ("json", "text", "diarized_json") if "diarize" in model else ("json",)
        ):
            await self.send_error(
                ex,
                400,
                f"response_format '{fmt}' is not compatible with model '{model}'.",
                "invalid_request_error",
                "unsupported_value",
                "response_format",
            )
            return
        source = self.transcription_text
        text = source(rec) if callable(source) else str(source)
        duration = round(content.audio_duration(audio), 3)
        prompt = rec.form.get("prompt") if isinstance(rec.form.get("prompt"), str) else ""
        token_usage = content.transcription_token_usage(text, duration, str(prompt))
        whisper = model.startswith("whisper")
        if rec.form.get("stream") == "true" and not whisper:
            tps = self.tokens_per_second
            events = [
                StreamEvent({"type": "transcript.text.delta", "delta": tok}, "delta", delay=1.0 / tps if tps else 0.0)
                for tok in content.split_tokens(text)
            ]
            events.append(StreamEvent({"type": "transcript.text.done", "text": text, "usage": token_usage}, "final"))
            if self.transcription_stream_done_marker:
                events.append(StreamEvent("[DONE]", "done"))
            await self.send_stream(ex, events)
            return
        if fmt in ("text", "srt", "vtt"):
            body = text + "\n" if fmt == "text" else content.subtitles(text, duration, fmt == "vtt")
            await self.send_bytes(ex, 200, body.encode(), "text/plain; charset=utf-8")
        elif fmt == "verbose_json":
            language = str(rec.form.get("language", "english"))
            await self.send_json(ex, content.verbose_transcript(text, duration, language))
        elif fmt == "diarized_json":
            await self.send_json(ex, content.diarized_transcript(text, duration))
        else:
            usage = {"type": "duration", "seconds": max(1, round(duration))} if whisper else token_usage
            await self.send_json(ex, {"text": text, "usage": usage})


# ---- CLI ---------------------------------------------------------------------------------------


def _stdin_is_watchable() -> bool:
    """Watch stdin for EOF only when it is a pipe, socket or terminal (not /dev/null or a file)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(sys.stdin.fileno())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_openai", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on the READY line)")
    parser.add_argument("--reply-file", type=Path, help="chat reply text (default: Markdown with a code block)")
    parser.add_argument("--tokens-per-second", type=float, default=None)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("FAKE_OPENAI_API_KEY"),
        help="require this key (default: $FAKE_OPENAI_API_KEY; none = no auth)",
    )
    parser.add_argument("--models", help="comma-separated model ids for GET /models")
    parser.add_argument("--split", choices=["awkward", "byte"], help="split streamed bodies at awkward points")
    parser.add_argument("--validate", action="store_true", help="400 for requests that fail the OpenAPI schema")
    parser.add_argument("--log", action="store_true", help="one line per request on stderr")
    args = parser.parse_args(argv)

    srv = FakeOpenAI(args.host, args.port, api_key=args.api_key, tokens_per_second=args.tokens_per_second)
    srv.chat_reply = args.reply_file.read_text(encoding="utf-8") if args.reply_file else content.markdown_reply
    if args.models:
        srv.models = [m.strip() for m in args.models.split(",") if m.strip()]
    srv.split_writes = {"awkward": "awkward", "byte": 1}.get(args.split or "")
    srv.validate_requests = args.validate
    if args.log:
        srv.log = lambda line: print(line, file=sys.stderr, flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    srv.start()
    print(f"READY {srv.base_url}", flush=True)
    if _stdin_is_watchable():

        def _watch_stdin() -> None:
            # os.read on the raw fd: a daemon thread parked in sys.stdin.buffer.read would hold the
            # buffer's lock and make interpreter shutdown abort.
            with contextlib.suppress(OSError):
                while os.read(fd, 65536):
                    pass
            stop.set()

        fd = sys.stdin.fileno()

        threading.Thread(target=_watch_stdin, name="stdin-watch", daemon=True).start()
    try:
        stop.wait()
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
