"""Client-side rate limiting (queued, never dropped) and the circuit breaker, on a fake clock,
driven through the loopback server's headers and faults."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.models import list_models
from assistant_app.core.ratelimit import CircuitBreaker, CircuitOpenError, ProviderGuard, RateLimiter, parse_duration
from tests.support.fake_clock import FakeClock
from tests.support.fake_faults import Fault
from tests.support.fake_openai import DEFAULT_RATELIMIT_HEADERS, FakeOpenAI


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as srv:
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> FakeOpenAI:
    server.clear_faults()
    server.clear_requests()
    server.ratelimit_headers = dict(DEFAULT_RATELIMIT_HEADERS)
    return server


def client_for(srv: FakeOpenAI, guard: ProviderGuard, clock: FakeClock, retries: int = 0) -> OpenAIClient:
    client = OpenAIClient(Endpoint(base_url=srv.base_url, api_key="sk-test"), max_retries=retries, sleep=clock.sleep)
    client.guard = guard
    return client


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6m0s", 360.0), ("12ms", 0.012), ("1s", 1.0), ("1h2m3.5s", 3723.5), ("500us", 0.0005), ("0s", 0.0),
     ("2.5", 2.5), ("", None), ("soon", None), ("5x", None), ("1s2", None), (None, None)],
)  # fmt: skip
def test_go_durations(text: str | None, seconds: float | None) -> None:
    result = parse_duration(text)
    assert result == (None if seconds is None else pytest.approx(seconds))


def test_limiter_spreads_requests_and_drops_none() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=3, clock=clock, sleep=clock.sleep)
    start = clock()
    granted: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        await limiter.acquire()
        granted.append((i, clock() - start))

    async def go() -> None:
        await asyncio.gather(*(one(i) for i in range(7)))

    asyncio.run(go())
    assert [i for i, _t in granted] == list(range(7))  # all served, in arrival order
    assert [t for _i, t in granted] == pytest.approx([0, 0, 0, 20, 40, 60, 80])  # 3 a minute


def test_token_budget_queues_large_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tpm=600, clock=clock, sleep=clock.sleep)

    async def go() -> list[float]:
        return [await limiter.acquire(300) for _ in range(4)] + [await limiter.acquire(5000)]

    waits = asyncio.run(go())
    # 600 tokens at once, then 10 tokens a second; a request above the whole budget waits for a full bucket.
    assert waits == pytest.approx([0, 0, 30, 30, 60])


def test_headers_set_limits_and_azure_placeholders_are_ignored() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.update_from_headers({"x-ratelimit-limit-requests": "-1", "x-ratelimit-remaining-requests": "0",
                                 "x-ratelimit-limit-tokens": "0", "x-ratelimit-remaining-tokens": "0"})  # fmt: skip
    assert limiter.requests.capacity is None and limiter.tokens.capacity is None
    limiter.update_from_headers({"x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "0",
                                 "x-ratelimit-reset-requests": "6m0s"})  # fmt: skip
    assert limiter.requests.capacity == 120 and limiter.requests.info.reset_s == 360
    assert asyncio.run(limiter.acquire()) == pytest.approx(0.5)  # 120 a minute: one every 0.5 s
    user = RateLimiter(rpm=30, clock=clock, sleep=clock.sleep)
    user.update_from_headers({"x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "100"})
    assert user.requests.capacity == 30 and user.requests.level == 30  # the user's lower limit holds


def test_limiter_pre_filled_from_the_servers_headers(srv: FakeOpenAI) -> None:
    srv.ratelimit_headers = {"x-ratelimit-limit-requests": "120", "x-ratelimit-remaining-requests": "0",
                             "x-ratelimit-reset-requests": "500ms"}  # fmt: skip
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    client = client_for(srv, ProviderGuard(limiter=limiter), clock)

    async def go() -> None:
        for _ in range(3):
            await list_models(client)
        await client.aclose()

    asyncio.run(go())
    assert len(srv.requests) == 3  # queued, not dropped
    assert clock.sleeps == pytest.approx([0.5, 0.5])  # the first call knew no limit; later ones waited


def test_breaker_opens_rejects_fast_half_opens_and_try_now_resets(srv: FakeOpenAI) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Fake AI", threshold=5, cooldown=30, max_cooldown=120, clock=clock)
    client = client_for(srv, ProviderGuard(breaker=breaker), clock)
    srv.enqueue_fault(Fault.server_error().only_for("/models"), times=6)

    async def attempt() -> E.APIError | None:
        try:
            await list_models(client)
        except E.APIError as exc:
            return exc
        return None

    async def go() -> None:
        for _ in range(5):
            assert isinstance(await attempt(), E.ServerError)
        assert breaker.state == "open"
        err = await attempt()
        assert isinstance(err, CircuitOpenError) and len(srv.requests) == 5  # refused without sending
        assert "Fake AI has failed 5 times in a row; pausing requests for 30 s" in err.user_message
        assert err.action_label == "Try now" and err.retry_in == pytest.approx(30)
        clock.advance(30)  # half-open: one trial goes out, fails, and the pause doubles
        assert isinstance(await attempt(), E.ServerError) and len(srv.requests) == 6
        err = await attempt()
        assert isinstance(err, CircuitOpenError) and "for 60 s" in err.user_message
        err.try_now()  # the user's "Try now"
        assert breaker.state == "closed"
        assert await attempt() is None and len(srv.requests) == 7
        await client.aclose()

    asyncio.run(go())


def test_half_open_success_closes_the_circuit(srv: FakeOpenAI) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Fake AI", threshold=2, cooldown=10, clock=clock)
    client = client_for(srv, ProviderGuard(breaker=breaker), clock)
    srv.enqueue_fault(Fault.disconnect(), times=2)

    async def go() -> None:
        for _ in range(2):
            with pytest.raises(E.APIError):
                await list_models(client)
        with pytest.raises(CircuitOpenError):
            await list_models(client)
        clock.advance(10)
        assert await list_models(client)
        assert (breaker.state, breaker.failures) == ("closed", 0)
        await client.aclose()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("fault", "opens"),
    [(Fault.rate_limited(retry_after=None), True), (Fault.overloaded(), True),
     (Fault.http_error(400, "bad", "invalid_request_error"), False), (Fault.model_not_found(), False),
     (Fault.insufficient_quota(), False)],
)  # fmt: skip
def test_what_counts_as_a_failure(srv: FakeOpenAI, fault: Fault, opens: bool) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Fake AI", threshold=3, clock=clock)
    client = client_for(srv, ProviderGuard(breaker=breaker), clock)
    srv.enqueue_fault(fault, times=4)

    async def go() -> list[type]:
        kinds = []
        for _ in range(4):
            try:
                await list_models(client)
                kinds.append(type(None))
            except E.APIError as exc:
                kinds.append(type(exc))
        await client.aclose()
        return kinds

    kinds = asyncio.run(go())
    assert (kinds[-1] is CircuitOpenError) == opens
    assert len(srv.requests) == (3 if opens else 4)


def test_breaker_interrupts_retries_of_one_request(srv: FakeOpenAI) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("Fake AI", threshold=3, clock=clock)
    client = client_for(srv, ProviderGuard(breaker=breaker), clock, retries=5)
    srv.enqueue_fault(Fault.server_error(), times=6)

    async def go() -> None:
        with pytest.raises(CircuitOpenError):
            await list_models(client)
        await client.aclose()

    asyncio.run(go())
    assert len(srv.requests) == 3  # the client's own retries stop when the circuit opens
