"""assistant_app.api.images against the loopback server; every request body checked against the OpenAPI subset."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import pytest_asyncio
from PIL import Image

from assistant_app.api import errors as E
from assistant_app.api.client import OpenAIClient
from assistant_app.api.endpoint import Endpoint
from assistant_app.api.images import (
    CompletedImage,
    PartialImage,
    edit_image,
    generate_image,
    stream_edit,
    stream_image,
)
from tests.support import image_fixtures as F
from tests.support import schema
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI

KEY = "sk-test-images-0000"
POLICY = "Your request was rejected as a result of our safety system."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        srv.image_max_side = 96  # real PNGs, small enough to keep the tests quick
        srv.validate_requests = True  # the server itself answers 400 to a body that breaks the schema
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.clear_requests()
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest_asyncio.fixture
async def client(srv: FakeOpenAI):
    c = OpenAIClient(Endpoint(base_url=srv.base_url, api_key=KEY), max_retries=1, read_timeout=10.0)
    yield c
    await c.aclose()


def picture(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def checked(srv: FakeOpenAI) -> list:
    """Every recorded request, validated strictly; returns them."""
    reqs = srv.requests
    for r in reqs:
        if r.method == "POST":
            schema.validate_recorded(r)
    return reqs


async def collect(gen) -> tuple[list, BaseException | None]:
    events: list = []
    try:
        async for ev in gen:
            events.append(ev)
    except E.APIError as exc:
        return events, exc
    return events, None


# ---- generation -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stream_yields_real_partials_then_the_completed_image(srv, client) -> None:
    events, err = await collect(stream_image(client, "a lighthouse at dusk", model="gpt-image-1", partial_images=3,
                                             size="1536x1024", quality="low"))  # fmt: skip
    assert err is None
    partials = [e for e in events if isinstance(e, PartialImage)]
    assert [p.index for p in partials] == [0, 1, 2]
    assert isinstance(events[-1], CompletedImage) and len(events) == 4
    for ev in events:
        im = picture(ev.data)
        assert im.format == "PNG" and ev.mime == "image/png" and im.size == (96, 64)
    assert len({p.data for p in partials}) == 3  # each preview differs
    assert events[-1].usage is not None and events[-1].usage.output_tokens > 0
    (req,) = checked(srv)
    assert req.json["stream"] is True and req.json["partial_images"] == 3 and req.json["size"] == "1536x1024"


@pytest.mark.asyncio
async def test_stream_with_no_partials_and_jpeg_output(srv, client) -> None:
    events, err = await collect(stream_image(client, "a fox", partial_images=0, output_format="jpeg"))
    assert err is None and len(events) == 1 and isinstance(events[0], CompletedImage)
    assert events[0].mime == "image/jpeg" and picture(events[0].data).format == "JPEG"
    assert checked(srv)[0].json["output_format"] == "jpeg"


@pytest.mark.asyncio
async def test_transparent_background_request(srv, client) -> None:
    result = await generate_image(client, "a sticker", model="gpt-image-1", background="transparent", n=2)
    assert len(result.images) == 2 and result.background == "transparent"
    assert all(picture(i.data).format == "PNG" for i in result.images)
    body = checked(srv)[0].json
    assert body["background"] == "transparent" and body["n"] == 2 and "response_format" not in body


@pytest.mark.asyncio
async def test_dalle3_gets_b64_json_style_and_revised_prompt(srv, client) -> None:
    result = await generate_image(client, "a dog", model="dall-e-3", size="1024x1792", quality="hd", style="natural")
    assert result.revised_prompt and "a dog" in result.revised_prompt
    assert picture(result.images[0].data).format == "PNG"
    body = checked(srv)[0].json
    assert body["response_format"] == "b64_json" and body["style"] == "natural"
    assert not {"stream", "partial_images", "background", "output_format"} & set(body)


@pytest.mark.asyncio
async def test_dalle2_url_results_are_downloaded_without_credentials(srv, client) -> None:
    result = await generate_image(client, "a boat", model="dall-e-2", size="256x256", response_format="url", n=2)
    assert [picture(i.data).format for i in result.images] == ["PNG", "PNG"]
    assert all(i.url and "/_fake_blobs/" in i.url for i in result.images)
    reqs = checked(srv)
    downloads = [r for r in reqs if r.method == "GET"]
    assert len(downloads) == 2 and all("authorization" not in r.headers for r in downloads)


@pytest.mark.asyncio
async def test_stream_image_falls_back_for_models_that_cannot_stream(srv, client) -> None:
    events, err = await collect(stream_image(client, "a tree", model="dall-e-3", partial_images=3))
    assert err is None and len(events) == 1 and isinstance(events[0], CompletedImage)
    assert events[0].revised_prompt
    body = checked(srv)[0].json
    assert "stream" not in body and "partial_images" not in body


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"model": "dall-e-2", "size": "1024x1792"}, "256x256, 512x512, 1024x1024"),
        ({"model": "dall-e-3", "size": "512x512"}, "1024x1024, 1792x1024, 1024x1792"),
        ({"model": "gpt-image-1", "size": "1792x1024"}, "1536x1024"),
        ({"model": "dall-e-3", "n": 2}, "n=1"),
        ({"model": "gpt-image-1", "n": 11}, "1 to 10"),
        ({"model": "dall-e-3", "background": "transparent"}, "only supported by GPT image models"),
        ({"model": "dall-e-2", "output_format": "webp"}, "only supported by GPT image models"),
        ({"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"}, "png or webp"),
        ({"model": "gpt-image-1", "quality": "hd"}, "low, medium, high, auto"),
        ({"model": "gpt-image-1", "style": "vivid"}, "only supported by dall-e-3"),
        ({"model": "gpt-image-1", "response_format": "url"}, "never a URL"),
        ({"model": "gpt-image-1", "output_compression": 50}, "jpeg and webp"),
        ({"model": "gpt-image-2", "size": "1000x1000"}, "multiples of 16"),
        ({"model": "gpt-image-2", "size": "3840x1008"}, "1:3 to 3:1"),
        ({"model": "gpt-image-2", "size": "4096x2048"}, "3840x2160"),
        ({"model": "dall-e-2", "prompt": "x" * 1001}, "at most 1,000"),
        ({"model": "gpt-image-1", "prompt": "   "}, "empty"),
    ],
)
@pytest.mark.asyncio
async def test_bad_options_are_refused_before_sending(srv, client, kwargs, words) -> None:
    prompt = kwargs.pop("prompt", "a cat")
    with pytest.raises(E.InvalidOptionsError) as info:
        await generate_image(client, prompt, **kwargs)
    assert words in str(info.value)
    assert srv.requests == []


@pytest.mark.asyncio
async def test_gpt_image_2_accepts_flexible_sizes(srv, client) -> None:
    result = await generate_image(client, "a wide view", model="gpt-image-2", size="2048x1152")
    assert picture(result.images[0].data).size == (96, 54)
    assert checked(srv)[0].json["size"] == "2048x1152"


@pytest.mark.asyncio
async def test_content_policy_violation_is_a_typed_error_and_not_retried(srv, client) -> None:
    srv.enqueue_fault(Fault.http_error(400, POLICY, "invalid_request_error", "content_policy_violation"))
    with pytest.raises(E.ContentPolicyError) as info:
        await generate_image(client, "something not allowed", model="dall-e-3")
    err = info.value
    assert isinstance(err, E.BadRequestError) and err.code == "content_policy_violation" and err.status == 400
    assert "content policy" in err.user_message and "safety system" in err.user_message
    assert len(srv.requests) == 1


@pytest.mark.asyncio
async def test_policy_refusal_before_a_stream_starts(srv, client) -> None:
    srv.enqueue_fault(Fault.http_error(400, POLICY, "image_generation_user_error", "moderation_blocked"))
    events, err = await collect(stream_image(client, "not allowed", partial_images=2))
    assert events == [] and isinstance(err, E.ContentPolicyError)


# ---- failures half-way ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (Fault.reset(after=2), E.StreamInterruptedError),
        (Fault.truncate(after=2), E.StreamInterruptedError),
        (Fault.stream_error(after=2), E.ServerStreamError),
    ],
)
@pytest.mark.asyncio
async def test_failure_half_way_keeps_the_partials_received(srv, client, fault, error_type) -> None:
    srv.enqueue_fault(fault)
    events, err = await collect(stream_image(client, "a castle", partial_images=3))
    assert isinstance(err, error_type) and isinstance(err, E.StreamError)
    assert [e.index for e in events] == [0, 1] and all(isinstance(e, PartialImage) for e in events)
    assert picture(events[-1].data).format == "PNG"  # the last preview is still a usable picture


@pytest.mark.asyncio
async def test_malformed_event_mid_stream(srv, client) -> None:
    srv.enqueue_fault(Fault.malformed_chunk(after=1))
    events, err = await collect(stream_image(client, "a castle", partial_images=2))
    assert isinstance(err, E.MalformedStreamError) and len(events) == 1


@pytest.mark.asyncio
async def test_moderation_error_event_mid_stream_is_a_policy_error(srv, client) -> None:
    srv.enqueue_fault(Fault.stream_error(after=1, message=POLICY, type_="image_generation_user_error",
                                         code="moderation_blocked"))  # fmt: skip
    events, err = await collect(stream_image(client, "a castle", partial_images=2))
    assert isinstance(err, E.ContentPolicyError) and len(events) == 1


# ---- edits ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_edit_is_multipart_and_valid(srv, client) -> None:
    base = F.png_bytes(F.halves(64, 64))
    mask = F.png_bytes(Image.new("RGBA", (64, 64), (0, 0, 0, 0)))
    result = await edit_image(client, base, "add a hat", mask, model="gpt-image-1", size="1024x1024",
                              input_fidelity="high")  # fmt: skip
    assert picture(result.images[0].data).format == "PNG" and result.usage is not None
    (req,) = checked(srv)
    assert req.content_type == "multipart/form-data"
    assert req.form["prompt"] == "add a hat" and req.form["input_fidelity"] == "high"
    assert req.files["image"][2] == base and req.files["mask"][2] == mask
    assert req.files["image"][1] == "image/png"


@pytest.mark.asyncio
async def test_stream_edit_with_several_images(srv, client) -> None:
    one, two = F.png_bytes(F.halves(64, 64)), F.jpeg_bytes(F.photo(64, 64))
    events, err = await collect(stream_edit(client, [one, two], "merge them", partial_images=1))
    assert err is None and [type(e).__name__ for e in events] == ["PartialImage", "CompletedImage"]
    (req,) = checked(srv)
    assert req.form["stream"] == "true" and req.form["partial_images"] == "1"
    assert [p[0] for p in req.file_parts] == ["image[]", "image[]"]
    assert [p[2] for p in req.file_parts] == ["image/png", "image/jpeg"]


@pytest.mark.asyncio
async def test_dalle2_edit_is_not_streamed(srv, client) -> None:
    events, err = await collect(stream_edit(client, F.png_bytes(F.halves(32, 32)), "hat", model="dall-e-2",
                                            size="256x256"))  # fmt: skip
    assert err is None and len(events) == 1
    req = checked(srv)[0]
    assert "stream" not in req.form and req.form["response_format"] == "b64_json"


@pytest.mark.parametrize(
    ("image", "mask", "model", "words"),
    [
        (F.SVG, None, "gpt-image-1", "PNG, JPEG or WebP"),
        (F.jpeg_bytes(F.photo(32, 32)), None, "dall-e-2", "must be a PNG"),
        (F.png_bytes(F.halves(64, 32)), None, "dall-e-2", "square"),
        (F.png_bytes(F.halves(32, 32)), None, "dall-e-3", "cannot edit"),
        (F.png_bytes(F.halves(32, 32)), F.jpeg_bytes(F.photo(32, 32)), "gpt-image-1", "mask must be a PNG"),
        (F.png_bytes(F.halves(32, 32)), F.png_bytes(F.halves(16, 16)), "gpt-image-1", "same size"),
        ([F.png_bytes(F.halves(8, 8))] * 17, None, "gpt-image-1", "At most 16"),
    ],
    ids=["svg", "dalle2-jpeg", "dalle2-not-square", "dalle3", "jpeg-mask", "mask-size", "17-images"],
)
@pytest.mark.asyncio
async def test_bad_edit_inputs_are_refused_before_sending(srv, client, image, mask, model, words) -> None:
    with pytest.raises(E.InvalidOptionsError) as info:
        await edit_image(client, image, "edit", mask, model=model)
    assert words in str(info.value)
    assert srv.requests == []
