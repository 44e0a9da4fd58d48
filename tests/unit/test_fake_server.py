"""Tests of the fake OpenAI server (tests/support/fake_openai.py) and the request validator (schema.py).

The server is driven with plain httpx over real sockets, sync and async.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageFilter, ImageStat

from tests.support import schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI, RecordedRequest
from tests.support.sse_reader import SseDecoder, SseEvent, adecode_all, decode_all

REPO = Path(__file__).resolve().parents[2]
CHAT = "/chat/completions"
USER_TEXT = "héllo wörld, 世界 🎉 — «quotes»"


def chat_body(text: str = USER_TEXT, stream: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    body.update(extra)
    return body


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.image_max_side = 256  # keeps image tests fast; reported sizes are unchanged
        yield server


@pytest.fixture
def client(srv: FakeOpenAI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base_url, timeout=10.0) as c:
        yield c


def stream_events(client: httpx.Client, path: str, body: dict[str, Any], **kw: Any) -> list[SseEvent]:
    with client.stream("POST", path, json=body, **kw) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        return decode_all(resp.iter_raw())


def chunks_of(events: list[SseEvent]) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in events if e.data != "[DONE]"]


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def png_from_b64(data: str) -> Image.Image:
    raw = base64.b64decode(data)
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(raw))
    img.load()
    return img


def edge_energy(img: Image.Image) -> float:
    return float(ImageStat.Stat(img.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0])


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def wav_bytes(seconds: float = 1.5, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


# ---- basics ----------------------------------------------------------------------------------


def test_models_list_and_common_headers(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.models = ["model-a", "model-b"]
    resp = client.get("/models")
    assert resp.status_code == 200
    body = resp.json()
    schema.validate_response("listModels", body)
    assert [m["id"] for m in body["data"]] == ["model-a", "model-b"]
    assert resp.headers["x-request-id"].startswith("req_")
    assert resp.headers["x-ratelimit-remaining-requests"] == "499"
    assert resp.headers["x-ratelimit-reset-tokens"] == "2s"
    (rec,) = srv.wait_for_requests(1)
    assert (rec.method, rec.path, rec.status) == ("GET", "/v1/models", 200)
    assert rec.request_id == resp.headers["x-request-id"]
    assert rec.headers["host"].startswith("127.0.0.1:")


def test_keep_alive_reuses_one_connection(srv: FakeOpenAI, client: httpx.Client) -> None:
    for _ in range(3):
        assert client.get("/models").status_code == 200
    client.post(CHAT, json=chat_body(stream=False))
    stream_events(client, CHAT, chat_body())
    assert client.get("/models").status_code == 200
    assert srv.connections_opened == 1


def test_chat_non_stream_echo_and_usage(srv: FakeOpenAI, client: httpx.Client) -> None:
    resp = client.post(CHAT, json=chat_body(stream=False))
    assert resp.status_code == 200
    body = resp.json()
    schema.validate_response("createChatCompletion", body)
    choice = body["choices"][0]
    assert choice["message"]["content"] == f"Echo: {USER_TEXT}"
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 1
    again = client.post(CHAT, json=chat_body(stream=False)).json()
    assert again["usage"] == usage  # deterministic
    assert again["id"] != body["id"]
    schema.validate_recorded(srv.last_request)
    assert srv.last_request.json == chat_body(stream=False)


def test_chat_reply_configurable_and_max_tokens(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.chat_reply = "one two three four five six"
    full = client.post(CHAT, json=chat_body(stream=False)).json()
    assert full["choices"][0]["message"]["content"] == "one two three four five six"
    cut = client.post(CHAT, json=chat_body(stream=False, max_completion_tokens=2)).json()
    assert cut["choices"][0]["message"]["content"] == "one two"
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 2
    srv.chat_reply = lambda body: body["messages"][-1]["content"].upper()
    shout = client.post(CHAT, json=chat_body("quiet", stream=False)).json()
    assert shout["choices"][0]["message"]["content"] == "QUIET"


def test_unknown_models_and_several_choices(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.reject_unknown_models = True
    resp = client.post(CHAT, json=chat_body(stream=False, model="gpt-nope"))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "model_not_found"
    chunks = chunks_of(stream_events(client, CHAT, chat_body(n=2)))
    by_index = {0: "", 1: ""}
    for chunk in chunks:
        for choice in chunk["choices"]:
            by_index[choice["index"]] += choice["delta"].get("content") or ""
    assert by_index == {0: f"Echo: {USER_TEXT}", 1: f"Echo: {USER_TEXT}"}


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_chat_stream_format(srv: FakeOpenAI, client: httpx.Client, framing: str) -> None:
    srv.stream_framing = framing
    srv.cached_tokens = 4
    events = stream_events(client, CHAT, chat_body())
    assert all(e.event is None for e in events)  # chat streams have no "event:" lines
    assert events[-1].data == "[DONE]"
    chunks = chunks_of(events)
    for chunk in chunks:
        schema.validate_response("createChatCompletion", chunk, "text/event-stream")
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    first, finish, usage_chunk = chunks[0], chunks[-2], chunks[-1]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert finish["choices"][0]["delta"] == {} and finish["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-2])
    assert all(c["usage"] is None for c in chunks[:-1])
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4
    assert usage["completion_tokens"] == len(chunks) - 3  # one content chunk per token
    assert text_of(chunks) == f"Echo: {USER_TEXT}"


def test_chat_stream_without_usage_or_obfuscation(client: httpx.Client) -> None:
    body = chat_body(stream_options={"include_usage": False, "include_obfuscation": False})
    chunks = chunks_of(stream_events(client, CHAT, body))
    assert all("usage" not in c and "obfuscation" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    plain = chunks_of(stream_events(client, CHAT, chat_body(stream_options=None)))
    assert all("obfuscation" in c for c in plain)  # sent by default, like OpenAI


def test_stream_options_without_stream_is_rejected(client: httpx.Client) -> None:
    resp = client.post(CHAT, json=chat_body(stream=False, stream_options={"include_usage": True}))
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "stream_options"


@pytest.mark.parametrize(("field", "value"), [("messages", []), ("model", None)], ids=["empty-messages", "no-model"])
def test_missing_required_parameter(client: httpx.Client, field: str, value: Any) -> None:
    body = chat_body(stream=False)
    body[field] = value
    if value is None:
        del body[field]
    resp = client.post(CHAT, json=body)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert (error["param"], error["code"]) == (field, "missing_required_parameter")


def test_invalid_json_and_unknown_url(client: httpx.Client) -> None:
    resp = client.post(CHAT, content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]["message"]
    resp = client.post("/nope", json={})
    assert resp.status_code == 404
    schema.validate_component("ErrorResponse", resp.json())
    assert resp.json()["error"]["type"] == "invalid_request_error"


# ---- wire-format awkwardness -----------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("split", ["awkward", 1, 7])
def test_awkward_splits_still_decode(srv: FakeOpenAI, client: httpx.Client, newline: str, split: Any) -> None:
    srv.split_writes = split
    srv.sse_newline = newline
    srv.chat_reply = "Ünïcödé 世界 🎉 and ASCII"
    with client.stream("POST", CHAT, json=chat_body()) as resp:
        pieces = list(resp.iter_raw())
    joined = b"".join(pieces)
    events = decode_all(pieces)
    assert text_of(chunks_of(events)) == "Ünïcödé 世界 🎉 and ASCII"
    assert events[-1].data == "[DONE]"
    assert len(pieces) > len(events)  # really split: more writes than events

    def undecodable(piece: bytes) -> bool:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    if split != 7:  # these two modes guarantee the nastiest cuts; 7-byte slices hit them by chance
        assert any(undecodable(p) for p in pieces), "no piece ended inside a multibyte character"
        if newline == "\r\n":
            assert any(p.endswith(b"\r") for p in pieces), "no split between CR and LF"
    assert not any(undecodable(line) for line in joined.splitlines())


def test_keepalive_comments_and_multiline_data(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.keepalive_comment = ": OPENROUTER PROCESSING"
    srv.sse_json_indent = 2
    with client.stream("POST", CHAT, json=chat_body()) as resp:
        raw = b"".join(resp.iter_raw())
    decoder = SseDecoder()
    events = decoder.feed(raw) + decoder.close()
    assert decoder.comments and set(decoder.comments) == {"OPENROUTER PROCESSING"}
    assert raw.startswith(b": OPENROUTER PROCESSING\n\n")
    assert b"\ndata:   " in raw  # pretty JSON spread over several data: lines
    assert text_of(chunks_of(events)) == f"Echo: {USER_TEXT}"


def test_azure_style_first_chunk_option(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.azure_first_chunk = True
    chunks = chunks_of(stream_events(client, CHAT, chat_body()))
    assert chunks[0]["choices"] == [] and chunks[0]["id"] == "" and "prompt_filter_results" in chunks[0]
    assert chunks[1]["choices"][0]["delta"]["role"] == "assistant"


def test_azure_deployment_paths(srv: FakeOpenAI) -> None:
    srv.api_key = "azure-secret"
    url = f"{srv.root_url}/openai/deployments/my-dep/chat/completions"
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.Client(timeout=10.0) as c:
        assert c.post(url, json=body, params={"api-version": "2024-10-21"}).status_code == 401
        hdrs = {"api-key": "azure-secret"}
        assert c.post(url, json=body, headers=hdrs).status_code == 400  # api-version is required
        with c.stream("POST", url, json=body, headers=hdrs, params={"api-version": "2024-10-21"}) as resp:
            assert resp.status_code == 200
            chunks = chunks_of(decode_all(resp.iter_raw()))
    assert chunks[0]["choices"] == []  # Azure's prompt-filter chunk comes first by default
    assert {c["model"] for c in chunks[1:]} == {"my-dep"}
    assert text_of(chunks) == "Echo: hi"
    rec = srv.last_request
    assert rec.query == {"api-version": "2024-10-21"} and rec.headers["api-key"] == "azure-secret"
    schema.validate_recorded(rec)


def test_auth_401_bodies(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.api_key = "sk-test-secret"
    missing = client.get("/models")
    assert missing.status_code == 401
    schema.validate_component("ErrorResponse", missing.json())
    error = missing.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] is None
    wrong = client.get("/models", headers={"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong" not in wrong.text and "sk-test-secret" not in wrong.text
    assert client.get("/models", headers={"api-key": "sk-test-secret"}).status_code == 401  # not Azure
    ok = client.get("/models", headers={"Authorization": "Bearer sk-test-secret"})
    assert ok.status_code == 200
    assert [r.status for r in srv.requests] == [401, 401, 401, 200]


# ---- faults ----------------------------------------------------------------------------------

HTTP_FAULTS = [
    (Fault.unauthorized(), 401, "invalid_api_key"),
    (Fault.forbidden(), 403, "unsupported_country_region_territory"),
    (Fault.model_not_found("gpt-x"), 404, "model_not_found"),
    (Fault.context_length_exceeded(), 400, "context_length_exceeded"),
    (Fault.rate_limited(retry_after=2, retry_after_ms=1500), 429, "rate_limit_exceeded"),
    (Fault.insufficient_quota(), 429, "insufficient_quota"),
    (Fault.server_error(), 500, None),
    (Fault.overloaded(), 503, "server_is_overloaded"),
]


@pytest.mark.parametrize(("fault", "status", "code"), HTTP_FAULTS, ids=[str(f[1]) + f"-{f[2]}" for f in HTTP_FAULTS])
def test_http_error_faults(srv: FakeOpenAI, client: httpx.Client, fault: Fault, status: int, code: str | None) -> None:
    srv.enqueue_fault(fault)
    resp = client.post(CHAT, json=chat_body())
    assert resp.status_code == status
    body = resp.json()
    schema.validate_component("ErrorResponse", body)
    assert body["error"]["code"] == code
    assert resp.headers["x-request-id"] == srv.last_request.request_id
    if code == "rate_limit_exceeded":
        assert resp.headers["retry-after"] == "2" and resp.headers["retry-after-ms"] == "1500"
    if code == "insufficient_quota":
        assert "retry-after" not in resp.headers
    assert client.post(CHAT, json=chat_body(stream=False)).status_code == 200  # the fault was used up


def test_fault_queue_order_and_path_filter(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.rate_limited().only_for(CHAT), times=2)
    srv.enqueue_fault(Fault.overloaded().only_for(CHAT))
    assert client.get("/models").status_code == 200  # not a chat request: untouched
    statuses = [client.post(CHAT, json=chat_body(stream=False)).status_code for _ in range(4)]
    assert statuses == [429, 429, 503, 200]
    assert srv.pending_faults == []
    assert [r.fault is not None for r in srv.requests] == [False, True, True, True, False]


def test_custom_headers_and_extra_headers(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.extra_headers = {"x-custom-everywhere": "yes"}
    srv.ratelimit_headers = {"x-ratelimit-remaining-tokens": "-1"}
    srv.enqueue_fault(Fault.server_error().with_headers(x_should_retry="false"))
    resp = client.post(CHAT, json=chat_body(stream=False))
    assert resp.status_code == 500
    assert resp.headers["x-should-retry"] == "false"
    assert resp.headers["x-custom-everywhere"] == "yes"
    assert resp.headers["x-ratelimit-remaining-tokens"] == "-1"
    assert "x-ratelimit-limit-requests" not in resp.headers
    ok = client.post(CHAT, json=chat_body(stream=False))
    assert "x-should-retry" not in ok.headers and ok.headers["x-custom-everywhere"] == "yes"


def test_html_and_non_json_bodies(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.html(502))
    srv.enqueue_fault(Fault.non_json())
    bad_gateway = client.post(CHAT, json=chat_body(stream=False))
    assert bad_gateway.status_code == 502 and bad_gateway.headers["content-type"] == "text/html"
    assert "<html>" in bad_gateway.text
    portal = client.post(CHAT, json=chat_body(stream=False))
    assert portal.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        portal.json()


@pytest.mark.parametrize("wrapped", [False, True])
def test_vllm_error_envelope(srv: FakeOpenAI, client: httpx.Client, wrapped: bool) -> None:
    srv.enqueue_fault(Fault.vllm_error(400, "bad things", wrapped=wrapped))
    resp = client.post(CHAT, json=chat_body())
    assert resp.status_code == 400
    body = resp.json()
    error = body["error"] if wrapped else body
    assert error["message"] == "bad things" and error["code"] == 400  # an integer, unlike OpenAI
    assert (body.get("object") == "error") is not wrapped


def test_disconnect_before_response(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.disconnect())
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(CHAT, json=chat_body(stream=False))
    assert client.post(CHAT, json=chat_body(stream=False)).status_code == 200  # next one is fine
    assert srv.connections_opened == 2


def test_reset_after_n_chunks(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.reset(after=3))
    decoder = SseDecoder()
    received: list[SseEvent] = []
    with (
        pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
        client.stream("POST", CHAT, json=chat_body()) as resp,
    ):
        for piece in resp.iter_raw():
            received += decoder.feed(piece)
    assert len(received) == 3
    assert all(e.data != "[DONE]" for e in received)


def test_malformed_chunk_then_stream_continues(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.malformed_chunk(after=2))
    events = stream_events(client, CHAT, chat_body())
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[2].data)
    good = [e for i, e in enumerate(events) if i != 2]
    assert text_of(chunks_of(good)) == f"Echo: {USER_TEXT}"
    assert events[-1].data == "[DONE]"


def test_truncated_stream_has_no_end_marker(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.truncate(after=4))
    events = stream_events(client, CHAT, chat_body())  # ends cleanly at the HTTP level
    assert len(events) == 4
    chunks = chunks_of(events)
    assert len(chunks) == 4 and all(c["choices"][0]["finish_reason"] is None for c in chunks)
    # "after" past the content: still never a finish_reason, usage or [DONE]
    srv.enqueue_fault(Fault.truncate(after=10_000))
    events = stream_events(client, CHAT, chat_body())
    assert text_of(chunks_of(events)) == f"Echo: {USER_TEXT}"
    assert all(e.data != "[DONE]" for e in events)
    assert all(c["choices"] and c["choices"][0]["finish_reason"] is None for c in chunks_of(events))


@pytest.mark.parametrize("openrouter", [False, True])
def test_error_event_mid_stream(srv: FakeOpenAI, client: httpx.Client, openrouter: bool) -> None:
    srv.enqueue_fault(Fault.stream_error(after=2, message="boom", openrouter_style=openrouter))
    events = stream_events(client, CHAT, chat_body())
    assert len(events) == 3
    last = json.loads(events[-1].data)
    assert last["error"] == {"message": "boom", "type": "server_error", "param": None, "code": None}
    assert ("choices" in last) is openrouter
    if openrouter:
        assert last["choices"][0]["finish_reason"] == "error"


def test_stall_causes_read_timeout_then_release(srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.stall(after=2))
    received: queue.Queue[SseEvent | BaseException | None] = queue.Queue()

    def reader() -> None:
        try:
            with (
                httpx.Client(base_url=srv.base_url, timeout=10.0) as c,
                c.stream("POST", CHAT, json=chat_body()) as resp,
            ):
                decoder = SseDecoder()
                for piece in resp.iter_raw():
                    for event in decoder.feed(piece):
                        received.put(event)
            received.put(None)
        except BaseException as exc:  # reported to the test thread
            received.put(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    srv.wait_for_stalls(1)
    first_two = [received.get(timeout=5), received.get(timeout=5)]
    assert all(isinstance(e, SseEvent) for e in first_two)
    assert received.empty()  # the server holds the rest
    # A client with a short read timeout gives up on a stalled stream.
    srv.enqueue_fault(Fault.stall(after=1))
    with (
        httpx.Client(base_url=srv.base_url, timeout=httpx.Timeout(10.0, read=0.3)) as c,
        pytest.raises(httpx.ReadTimeout),
        c.stream("POST", CHAT, json=chat_body()) as resp,
    ):
        for _ in resp.iter_raw():
            pass
    srv.release_stalls()
    rest: list[SseEvent] = []
    while (item := received.get(timeout=5)) is not None:
        assert isinstance(item, SseEvent), item
        rest.append(item)
    thread.join(5)
    assert text_of(chunks_of(first_two + rest)) == f"Echo: {USER_TEXT}"
    assert rest[-1].data == "[DONE]"


def test_hang_never_blocks_shutdown() -> None:
    server = FakeOpenAI().start()
    server.enqueue_fault(Fault.hang())
    outcome: queue.Queue[BaseException | int] = queue.Queue()

    def call() -> None:
        try:
            with httpx.Client(timeout=10.0) as c:
                outcome.put(c.get(f"{server.base_url}/models").status_code)
        except BaseException as exc:
            outcome.put(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    server.wait_for_stalls(1)
    assert server.running
    server.stop()  # raises if the loop thread is still alive: the held request must not block it
    assert not server.running
    result = outcome.get(timeout=5)
    assert isinstance(result, (httpx.RemoteProtocolError, httpx.ReadError)), result
    server.stop()  # idempotent


def test_hang_then_release_answers_normally(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.enqueue_fault(Fault.hang())
    result: queue.Queue[int] = queue.Queue()
    t = threading.Thread(target=lambda: result.put(client.get("/models").status_code), daemon=True)
    t.start()
    srv.wait_for_stalls(1)
    assert result.empty()
    srv.release_stalls()
    assert result.get(timeout=5) == 200
    t.join(5)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.truncate(), httpx.RemoteProtocolError),
        (Fault.reset(), (httpx.RemoteProtocolError, httpx.ReadError)),
        (Fault.malformed_chunk(), json.JSONDecodeError),
    ],
    ids=["truncate", "reset", "malformed"],
)
def test_body_faults_on_non_streamed_response(
    srv: FakeOpenAI, client: httpx.Client, fault: Fault, expected: Any
) -> None:
    srv.enqueue_fault(fault)
    with pytest.raises(expected):
        client.post(CHAT, json=chat_body(stream=False)).json()


def test_drop_connections_forces_reconnect(srv: FakeOpenAI, client: httpx.Client) -> None:
    assert client.get("/models").status_code == 200
    srv.drop_connections()
    # httpx retries a request on a keep-alive connection the server closed while idle... or fails;
    # either way the server now sees a new connection for the next successful request.
    try:
        client.get("/models")
    except httpx.TransportError:
        pass
    assert client.get("/models").status_code == 200
    assert srv.connections_opened == 2


# ---- images ----------------------------------------------------------------------------------


def test_image_generation_b64(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.image_max_side = None
    body = {"prompt": "a lighthouse", "model": "gpt-image-1", "size": "256x256", "n": 2}
    resp = client.post("/images/generations", json=body)
    assert resp.status_code == 200
    payload = resp.json()
    assert payload["size"] == "256x256" and payload["usage"]["output_tokens"] > 0
    images = [png_from_b64(d["b64_json"]) for d in payload["data"]]
    assert [img.size for img in images] == [(256, 256), (256, 256)]
    assert images[0].tobytes() != images[1].tobytes()
    schema.validate_recorded(srv.last_request)
    again = client.post("/images/generations", json=body).json()
    assert again["data"][0]["b64_json"] == payload["data"][0]["b64_json"]  # deterministic


def test_image_generation_url_for_dalle(client: httpx.Client) -> None:
    payload = client.post("/images/generations", json={"prompt": "a dog", "size": "512x512"}).json()
    url = payload["data"][0]["url"]
    assert "b64_json" not in payload["data"][0]
    blob = httpx.get(url, timeout=10.0)
    assert blob.status_code == 200 and blob.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(blob.content)).size == (256, 256)  # capped by image_max_side


def test_image_generation_stream_partials(srv: FakeOpenAI, client: httpx.Client) -> None:
    body = {"prompt": "a harbour", "model": "gpt-image-1", "size": "1024x1024", "stream": True, "partial_images": 3}
    schema.validate_request("createImage", body)
    events = stream_events(client, "/images/generations", body)
    assert [e.event for e in events] == ["image_generation.partial_image"] * 3 + ["image_generation.completed"]
    payloads = [json.loads(e.data) for e in events]
    for ev, payload in zip(events, payloads, strict=True):
        assert payload["type"] == ev.event
        schema.validate_response("createImage", payload, "text/event-stream")
    assert [p["partial_image_index"] for p in payloads[:3]] == [0, 1, 2]
    assert payloads[-1]["usage"]["total_tokens"] > 0
    raw_sizes = [len(base64.b64decode(p["b64_json"])) for p in payloads]
    images = [png_from_b64(p["b64_json"]) for p in payloads]
    details = [edge_energy(img) for img in images]
    assert raw_sizes == sorted(raw_sizes) and len(set(raw_sizes)) == 4, raw_sizes
    assert details == sorted(details) and len(set(details)) == 4, details
    assert {img.size for img in images} == {(256, 256)}


def test_image_stream_zero_partials(client: httpx.Client) -> None:
    body = {"prompt": "x", "model": "gpt-image-1", "stream": True, "partial_images": 0}
    events = stream_events(client, "/images/generations", body)
    assert [e.event for e in events] == ["image_generation.completed"]


def test_image_edit_multipart_stream(srv: FakeOpenAI, client: httpx.Client) -> None:
    source = png_bytes((96, 64), "navy")
    fields = {
        "prompt": "add a moon",
        "model": "gpt-image-1",
        "stream": "true",
        "partial_images": "2",
        "size": "1536x1024",
    }
    resp = client.post(
        "/images/edits",
        files={"image": ("in.png", source, "image/png"), "mask": ("mask.png", png_bytes((96, 64)), "image/png")},
        data=fields,
    )
    assert resp.status_code == 200
    events = decode_all([resp.content])
    assert [e.event for e in events] == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    final = json.loads(events[-1].data)
    schema.validate_response("createImageEdit", final, "text/event-stream")
    assert png_from_b64(final["b64_json"]).size == (256, 171)  # 1536x1024 capped by image_max_side
    rec = srv.last_request
    assert rec.form == fields
    assert rec.files is not None
    assert rec.files["image"] == ("in.png", "image/png", source)
    assert rec.files["mask"][0] == "mask.png"
    schema.validate_recorded(rec)


def test_image_edit_several_images_json_response(srv: FakeOpenAI, client: httpx.Client) -> None:
    files = [("image[]", (f"{i}.png", png_bytes(colour=c), "image/png")) for i, c in enumerate(["red", "blue"])]
    resp = client.post("/images/edits", files=files, data={"prompt": "merge", "size": "1024x1536"})
    assert resp.status_code == 200
    payload = resp.json()
    schema.validate_response("createImageEdit", payload)
    assert payload["size"] == "1024x1536"
    assert png_from_b64(payload["data"][0]["b64_json"]).size == (171, 256)  # 2:3, capped at 256
    rec = srv.last_request
    assert [(name, fname) for name, fname, _, _ in rec.file_parts] == [("image[]", "0.png"), ("image[]", "1.png")]
    schema.validate_recorded(rec)


def test_image_edit_json_body(client: httpx.Client) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes((40, 40))).decode()
    body = {"images": [{"image_url": data_url}], "prompt": "sparkles", "model": "gpt-image-1"}
    schema.validate_request("createImageEdit", body)
    payload = client.post("/images/edits", json=body).json()
    assert payload["size"] == "40x40"
    assert png_from_b64(payload["data"][0]["b64_json"]).size == (40, 40)  # no size: the input's size


def test_image_edit_requires_image(client: httpx.Client) -> None:
    resp = client.post("/images/edits", files={"other": ("x.txt", b"x", "text/plain")}, data={"prompt": "p"})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "image"


# ---- transcriptions --------------------------------------------------------------------------


def transcribe(client: httpx.Client, **fields: str) -> httpx.Response:
    return client.post("/audio/transcriptions", files={"file": ("speech.wav", wav_bytes(), "audio/wav")}, data=fields)


def test_transcription_json_and_recording(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.transcription_text = "bonjour tout le monde"
    resp = transcribe(client, model="gpt-4o-transcribe", language="fr", temperature="0.2")
    assert resp.status_code == 200
    payload = resp.json()
    schema.validate_response("createTranscription", payload)
    assert payload["text"] == "bonjour tout le monde" and payload["usage"]["type"] == "tokens"
    rec = srv.last_request
    assert rec.form == {"model": "gpt-4o-transcribe", "language": "fr", "temperature": "0.2"}
    assert rec.files is not None and rec.files["file"] == ("speech.wav", "audio/wav", wav_bytes())
    schema.validate_recorded(rec)
    whisper = transcribe(client, model="whisper-1").json()
    assert whisper["usage"] == {"type": "duration", "seconds": 2}


def test_transcription_text_formats(srv: FakeOpenAI, client: httpx.Client) -> None:
    text = transcribe(client, model="whisper-1", response_format="text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == srv.transcription_text + "\n"
    srt = transcribe(client, model="whisper-1", response_format="srt").text
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\n")
    vtt = transcribe(client, model="whisper-1", response_format="vtt").text
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")
    verbose = transcribe(client, model="whisper-1", response_format="verbose_json").json()
    schema.validate_response("createTranscription", verbose)
    assert verbose["duration"] == 1.5 and len(verbose["words"]) == len(srv.transcription_text.split())
    rejected = transcribe(client, model="gpt-4o-transcribe", response_format="verbose_json")
    assert rejected.status_code == 400 and rejected.json()["error"]["param"] == "response_format"


@pytest.mark.parametrize("done_marker", [False, True])
def test_transcription_stream(srv: FakeOpenAI, client: httpx.Client, done_marker: bool) -> None:
    srv.transcription_stream_done_marker = done_marker
    resp = transcribe(client, model="gpt-4o-mini-transcribe", stream="true")
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = decode_all([resp.content])
    assert all(e.event is None for e in events)
    if done_marker:
        assert events.pop().data == "[DONE]"
    payloads = [json.loads(e.data) for e in events]
    for payload in payloads:
        schema.validate_response("createTranscription", payload, "text/event-stream")
    assert {p["type"] for p in payloads[:-1]} == {"transcript.text.delta"}
    assert payloads[-1]["type"] == "transcript.text.done"
    assert "".join(p["delta"] for p in payloads[:-1]) == payloads[-1]["text"] == srv.transcription_text
    whisper = transcribe(client, model="whisper-1", stream="true")  # whisper-1 ignores stream
    assert whisper.headers["content-type"] == "application/json"


def test_multipart_repeated_fields_recorded(srv: FakeOpenAI, client: httpx.Client) -> None:
    resp = client.post(
        "/audio/transcriptions",
        files={"file": ("a.wav", wav_bytes(0.1), "audio/wav")},
        data={
            "model": "whisper-1",
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["word", "segment"],
        },
    )
    assert resp.status_code == 200
    rec = srv.last_request
    assert rec.form is not None and rec.form["timestamp_granularities[]"] == ["word", "segment"]
    schema.validate_recorded(rec)


# ---- async clients ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_client_concurrent_streams(srv: FakeOpenAI) -> None:
    srv.tokens_per_second = 2000.0
    async with httpx.AsyncClient(base_url=srv.base_url, timeout=10.0) as c:

        async def one(text: str) -> str:
            async with c.stream("POST", CHAT, json=chat_body(text)) as resp:
                return text_of(chunks_of(await adecode_all(resp.aiter_raw())))

        results = await asyncio.gather(*(one(f"message {i}") for i in range(4)))
    assert results == [f"Echo: message {i}" for i in range(4)]
    assert len(srv.wait_for_requests(4)) == 4


@pytest.mark.asyncio
async def test_async_client_sees_reset(srv: FakeOpenAI) -> None:
    srv.enqueue_fault(Fault.reset(after=1))
    async with httpx.AsyncClient(base_url=srv.base_url, timeout=10.0) as c:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            async with c.stream("POST", CHAT, json=chat_body()) as resp:
                await adecode_all(resp.aiter_raw())


# ---- server-side validation ------------------------------------------------------------------


def test_server_validates_requests_when_asked(srv: FakeOpenAI, client: httpx.Client) -> None:
    srv.validate_requests = True
    bad = client.post(CHAT, json=chat_body(stream=False, temperature=5))
    assert bad.status_code == 400
    assert "temperature" in bad.json()["error"]["message"]
    assert client.post(CHAT, json=chat_body(stream=False, temperature=1)).status_code == 200
    bad_form = transcribe(client, model="whisper-1", bogus="1")
    assert bad_form.status_code == 400 and "bogus" in bad_form.json()["error"]["message"]


# ---- schema validator ------------------------------------------------------------------------


def test_schema_accepts_correct_chat_request() -> None:
    body = chat_body(
        temperature=0.7,
        max_completion_tokens=256,
        stop=["\n\n"],
        n=None,  # nullable: true must accept null
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
            ]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        ],
    )  # fmt: skip
    schema.validate_request("createChatCompletion", body)


def test_schema_rejects_wrong_chat_request_listing_every_violation() -> None:
    with pytest.raises(AssertionError) as info:
        schema.validate_request("createChatCompletion", {"model": "gpt-4o", "temperature": 5, "max_token": 3})
    text = str(info.value)
    assert "'messages' is a required property" in text
    assert "$.temperature" in text and "maximum of 2" in text
    assert "$.max_token: unknown field" in text
    schema.validate_request(
        "createChatCompletion", chat_body(stream=False, max_token=3), allow_unknown=True
    )  # vendor extensions may be allowed explicitly
    with pytest.raises(AssertionError, match=r"image_url.*not of type 'object'"):
        schema.validate_request(
            "createChatCompletion",
            chat_body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": "http://x/y.png"}]}]),
        )
    with pytest.raises(AssertionError, match="tool_call_id"):
        schema.validate_request("createChatCompletion", chat_body(messages=[{"role": "tool", "content": "x"}]))


def test_schema_multipart_coercion_and_file_placement() -> None:
    form = {
        "file": ("a.wav", "audio/wav", b"RIFF"),
        "model": "gpt-4o-transcribe",
        "temperature": "0.2",
        "stream": "true",
        "include[]": "logprobs",
        "chunking_strategy[type]": "server_vad",
        "chunking_strategy[silence_duration_ms]": "300",
    }
    body, problems = schema.form_to_json("createTranscription", form)
    assert problems == []
    assert body["temperature"] == 0.2 and body["stream"] is True and body["include"] == ["logprobs"]
    assert body["chunking_strategy"] == {"type": "server_vad", "silence_duration_ms": 300}
    schema.validate_request("createTranscription", form, "multipart/form-data")
    with pytest.raises(AssertionError) as info:
        schema.validate_request(
            "createTranscription",
            {"file": "not-a-file", "model": ("m.txt", "text/plain", b"x"), "temperature": "warm", "extra": "1"},
            "multipart/form-data",
        )
    text = str(info.value)
    assert "$.file: sent as a plain field" in text
    assert "$.model: sent as a file part" in text
    assert "'warm' is not of type 'number'" in text
    assert "'extra' was unexpected" in text


def test_schema_rewrites_openapi_idioms() -> None:
    sp = schema.spec()
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "usage": None,
             "choices": [{"index": 0, "delta": {"content": None}, "finish_reason": None}]}  # fmt: skip
    schema.validate_response("createChatCompletion", chunk, "text/event-stream")  # nullable -> null ok
    assert "$recursiveRef" not in json.dumps(sp.doc)
    assert '"nullable"' not in json.dumps(sp.doc["components"]["schemas"]["CreateImageRequest"])
    # $recursiveRef: a compound filter nested in a compound filter validates, a broken one does not.
    leaf = {"type": "eq", "key": "a", "value": "b"}
    tool = {"type": "file_search", "vector_store_ids": ["vs_1"],
            "filters": {"type": "and", "filters": [leaf, {"type": "or", "filters": [leaf]}]}}  # fmt: skip
    schema.validate_request("createResponse", {"model": "gpt-4o", "input": "hi", "tools": [tool]})
    tool["filters"]["filters"][1] = {"type": "or", "filters": "nope"}
    with pytest.raises(AssertionError):
        schema.validate_request("createResponse", {"model": "gpt-4o", "input": "hi", "tools": [tool]})


def test_schema_operation_lookup_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert schema.operation_for_path("POST", "/v1/chat/completions") == "createChatCompletion"
    assert schema.operation_for_path("POST", "/openai/deployments/d/chat/completions") == "createChatCompletion"
    assert schema.operation_for_path("POST", "/v1/audio/transcriptions") == "createTranscription"
    assert schema.operation_for_path("GET", "/v1/chat/completions") is None
    with pytest.raises(KeyError, match="unknownOp"):
        schema.validate_request("unknownOp", {})
    rec = RecordedRequest("POST", "/v1/nothing", "", {}, {}, b"")
    with pytest.raises(AssertionError, match="no operation"):
        schema.validate_recorded(rec)
    copy = tmp_path / "subset.json"
    shutil.copy(schema.schema_path(), copy)
    monkeypatch.setenv(schema.SCHEMA_ENV, str(copy))
    assert schema.schema_path() == copy
    assert schema.spec().path == copy
    monkeypatch.setenv(schema.SCHEMA_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError, match=schema.SCHEMA_ENV):
        schema.spec()


# ---- CLI -------------------------------------------------------------------------------------


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FAKE_OPENAI_API_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", "0", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise AssertionError(f"no READY line: {line!r} {proc.communicate(timeout=10)}")
    return proc, line.split(" ", 1)[1].strip()


def test_cli_ready_serves_markdown_and_exits_on_stdin_close() -> None:
    proc, base_url = start_cli("--api-key", "cli-key", "--tokens-per-second", "5000")
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with httpx.Client(base_url=base_url, timeout=10.0, headers={"Authorization": "Bearer cli-key"}) as c:
            assert c.get("/models").status_code == 200
            with c.stream("POST", CHAT, json=chat_body("show me code")) as resp:
                text = text_of(chunks_of(decode_all(resp.iter_raw())))
            assert c.get("/models", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert text.startswith("> show me code")
        assert "```python\n" in text and "**" in text
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


def test_cli_reply_file_and_sigterm(tmp_path: Path) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text("Custom *reply* ✓", encoding="utf-8")
    proc, base_url = start_cli("--reply-file", str(reply))
    try:
        payload = httpx.post(f"{base_url}{CHAT}", json=chat_body(stream=False), timeout=10.0).json()
        assert payload["choices"][0]["message"]["content"] == "Custom *reply* ✓"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
