"""Costs from the usage objects the loopback server returns, against prices computed by hand."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from assistant_app.api.calls import CallRecord
from assistant_app.api.chat import build_chat_request, stream_chat
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.core import pricing
from assistant_app.core.pricing import PriceTable, cost_of, model_candidates
from tests.support import fake_content as content
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

M = 1_000_000
MESSAGES = [{"role": "user", "content": "Tell me something about foxes and snow"}]
REPLY = "Foxes hunt under the snow by listening for mice."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(chat_reply=REPLY) as srv:
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> FakeOpenAI:
    server.clear_faults()
    server.cached_tokens = 0
    return server


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load(None)


def calls_for(srv: FakeOpenAI, *requests: tuple[str, dict], records: list | None = None) -> list[CallRecord]:
    """Run requests ("chat", body) / ("POST path", kwargs) through a real client; return its records."""
    records = [] if records is None else records

    async def go() -> None:
        client = OpenAIClient(Endpoint(base_url=srv.base_url, api_key="sk-test"), max_retries=0)
        client.observers.append(records.append)
        for what, kw in requests:
            if what == "chat":
                async for _ in stream_chat(client, build_chat_request(kw["model"], MESSAGES)):
                    pass
            else:
                await client.request_json("POST", what, **kw)
        await client.aclose()

    asyncio.run(go())
    return records


def test_chat_cost_prices_cached_tokens_at_the_cached_rate(srv: FakeOpenAI, prices: PriceTable) -> None:
    srv.cached_tokens = 5
    gpt4o, mini = calls_for(srv, ("chat", {"model": "gpt-4o"}), ("chat", {"model": "gpt-4o-mini"}))
    p = content.prompt_token_count(MESSAGES)
    c = content.count_tokens(REPLY)
    assert (gpt4o.prompt_tokens, gpt4o.cached_tokens, gpt4o.completion_tokens) == (p, 5, c)
    # gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per 1M tokens.
    assert cost_of(gpt4o, prices) == pytest.approx(((p - 5) * 2.50 + 5 * 1.25 + c * 10.00) / M)
    # gpt-4o-mini: $0.15 / $0.075 / $0.60.
    assert cost_of(mini, prices) == pytest.approx(((p - 5) * 0.15 + 5 * 0.075 + c * 0.60) / M)
    srv.cached_tokens = 0
    (uncached,) = calls_for(srv, ("chat", {"model": "gpt-4o"}))
    assert cost_of(uncached, prices) == pytest.approx((p * 2.50 + c * 10.00) / M)
    assert cost_of(uncached, prices) > cost_of(gpt4o, prices)


def test_gpt_image_cost_from_the_image_response_usage(srv: FakeOpenAI, prices: PriceTable) -> None:
    prompt = "a lighthouse at dusk, oil painting"
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "navy").save(buf, "PNG")
    gen, edit = calls_for(
        srv,
        ("/images/generations", {"json": {"model": "gpt-image-1", "prompt": prompt, "n": 2}}),
        ("/images/edits", {"data": {"model": "gpt-image-1", "prompt": prompt},
                           "files": {"image": ("in.png", buf.getvalue(), "image/png")}}),
    )  # fmt: skip
    text = content.count_tokens(prompt)
    # gpt-image-1: $5 text input, $10 image input, $40 image output per 1M tokens.
    assert (gen.prompt_tokens, gen.completion_tokens, gen.images) == (text, 2 * 272, 2)
    assert cost_of(gen, prices) == pytest.approx((text * 5.00 + 2 * 272 * 40.00) / M)
    assert edit.image_tokens == 65
    assert cost_of(edit, prices) == pytest.approx((text * 5.00 + 65 * 10.00 + 272 * 40.00) / M)


def test_dall_e_cost_per_image_by_size_and_quality(srv: FakeOpenAI, prices: PriceTable) -> None:
    hd, std, small = calls_for(
        srv,
        ("/images/generations", {"json": {"model": "dall-e-3", "prompt": "x", "size": "1792x1024", "quality": "hd"}}),
        ("/images/generations", {"json": {"model": "dall-e-3", "prompt": "x"}}),
        ("/images/generations", {"json": {"model": "dall-e-2", "prompt": "x", "size": "256x256", "n": 3}}),
    )
    assert cost_of(hd, prices) == pytest.approx(0.120)
    assert cost_of(std, prices) == pytest.approx(0.040)  # defaults: 1024x1024, standard
    assert cost_of(small, prices) == pytest.approx(3 * 0.016)


def test_transcription_cost_per_minute_and_per_token(srv: FakeOpenAI, prices: PriceTable) -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 90)
    audio = ("a.wav", buf.getvalue(), "audio/wav")
    whisper, gpt = calls_for(
        srv,
        ("/audio/transcriptions", {"data": {"model": "whisper-1"}, "files": {"file": audio}}),
        ("/audio/transcriptions", {"data": {"model": "gpt-4o-transcribe"}, "files": {"file": audio}}),
    )
    assert cost_of(whisper, prices) == pytest.approx(1.5 * 0.006)  # 90 s at $0.006 a minute
    usage = content.transcription_token_usage(content.DEFAULT_TRANSCRIPT, 90.0)
    # gpt-4o-transcribe: $6 audio input, $2.50 text input, $10 output per 1M tokens.
    expected = (usage["input_token_details"]["audio_tokens"] * 6.00 + usage["output_tokens"] * 10.00) / M
    assert cost_of(gpt, prices) == pytest.approx(expected)


def test_unknown_model_costs_unknown_never_zero(srv: FakeOpenAI, prices: PriceTable) -> None:
    srv.models.append("llama3.1:8b")
    try:
        (rec,) = calls_for(srv, ("chat", {"model": "llama3.1:8b"}))
    finally:
        srv.models.remove("llama3.1:8b")
    assert rec.ok and rec.prompt_tokens
    assert cost_of(rec, prices) is None


def test_refused_and_unanswered_calls_cost_nothing_but_truncated_ones_are_unknown(
    srv: FakeOpenAI, prices: PriceTable
) -> None:
    failed = CallRecord(0, "h", "/chat/completions", "chat", model="gpt-4o", http_status=500, status="500")
    dropped = CallRecord(0, "h", "/chat/completions", "chat", model="gpt-4o", status="connection")
    truncated = CallRecord(0, "h", "/chat/completions", "chat", model="gpt-4o", http_status=200,
                           status="interrupted")  # fmt: skip
    models = CallRecord(0, "h", "/models", "models", http_status=200, status="200")
    assert [cost_of(r, prices) for r in (failed, dropped, truncated, models)] == [0.0, 0.0, None, 0.0]
    srv.enqueue_fault(Fault.server_error())
    records: list[CallRecord] = []
    with pytest.raises(Exception, match="500"):
        calls_for(srv, ("chat", {"model": "gpt-4o"}), records=records)
    assert [(r.status, cost_of(r, prices)) for r in records] == [("500", 0.0)]


@pytest.mark.parametrize(
    ("model", "found"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # an exact entry wins over the family
        ("GPT-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
        ("o3-2025-04-16", "o3"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", None),  # fine-tunes have other prices
        ("llama3", None),
    ],
)
def test_model_name_normalisation(prices: PriceTable, model: str, found: str | None) -> None:
    hit = prices.lookup("chat", model)
    assert (hit[0] if hit else None) == found
    assert model_candidates(model)[0] == model.lower()


def test_snapshot_prices_differ_from_the_family(prices: PriceTable) -> None:
    def rec(model: str) -> CallRecord:
        return CallRecord(0, "h", "/chat/completions", "chat", model=model, http_status=200, prompt_tokens=M,
                          completion_tokens=0)  # fmt: skip

    assert cost_of(rec("gpt-4o-2024-08-06"), prices) == pytest.approx(2.50)
    assert cost_of(rec("gpt-4o-2024-05-13"), prices) == pytest.approx(5.00)
    served = rec("my-azure-deployment")
    served.response_model = "gpt-4o-2024-11-20"  # the model the server says it used is priced
    assert cost_of(served, prices) == pytest.approx(2.50)


def test_user_file_is_merged_over_the_bundled_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_APP_HOME", str(home))
    (home / "config").mkdir(parents=True)
    override = {"chat": {"llama3": {"input": 0, "output": 0}, "gpt-4o": {"output": 20.0}}}
    (home / "config" / "prices.json").write_text(json.dumps(override), encoding="utf-8")
    table = pricing.reload()
    try:
        rec = CallRecord(0, "h", "/chat/completions", "chat", model="llama3", http_status=200, prompt_tokens=100,
                         completion_tokens=100)  # fmt: skip
        assert cost_of(rec) == 0.0  # a local model the user declared free is 0, not unknown
        rec.model = "gpt-4o"
        assert cost_of(rec) == pytest.approx((100 * 2.50 + 100 * 20.0) / M)  # input kept, output overridden
        assert table.as_of and table.source  # the bundled metadata survives the merge
        (home / "config" / "prices.json").write_text("{not json", encoding="utf-8")
        assert pricing.reload().lookup("chat", "llama3") is None  # a broken file is ignored
    finally:
        monkeypatch.undo()
        pricing.reload()


def test_bundled_table_has_metadata_and_marks_uncertain_prices(prices: PriceTable) -> None:
    assert prices.as_of and "openai.com" in (prices.source or "")
    uncertain = [name for section in ("chat", "images", "audio") for name, entry in prices.data[section].items()
                 if entry.get("uncertain")]  # fmt: skip
    assert uncertain, "prices not checked on the as_of date must say so"
