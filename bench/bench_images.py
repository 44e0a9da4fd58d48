"""Benchmark the image engine: a 24-megapixel JPEG dropped in, and partial images arriving.

Prints one JSON document (medians in milliseconds). Never passes or fails on time.

* ``thumbnail_only`` on a 6000x4000 camera-like JPEG (EXIF-rotated), against a full decode without
  ``Image.draft`` for comparison;
* ``prepare_image`` for ``auto`` and ``low``;
* the worst event-loop stall while ``prepare_image`` runs in a worker thread (a Qt-free stand-in
  for the UI thread: Pillow releases the GIL while decoding and resampling, so the loop keeps ticking);
* partial images from the loopback server at 1024x1024: base64 + PNG decode per event (Pillow, and
  QImage when PySide6 is importable), i.e. the client's cost between an event's arrival and a paintable image.

    /tmp/venv/bin/python bench/bench_images.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support (fixtures, loopback server) when run as a script

from assistant_app.api.client import OpenAIClient  # noqa: E402
from assistant_app.api.endpoint import Endpoint  # noqa: E402
from assistant_app.api.images import PartialImage, stream_image  # noqa: E402
from assistant_app.media.images import prepare_image, thumbnail_only  # noqa: E402
from tests.support import image_fixtures as F  # noqa: E402
from tests.support.fake_openai import FakeOpenAI  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    fn()  # warm caches (file pages, codec tables)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "min_ms": round(min(samples), 2),
            "max_ms": round(max(samples), 2), "runs": runs}  # fmt: skip


def full_decode_thumbnail(path: Path) -> None:
    with Image.open(path) as im:
        im.load()  # no draft: every one of the 24 million pixels is decoded
        im.thumbnail((160, 160))


async def loop_stall_during(fn: Callable[[], Any], tick: float = 0.001) -> dict[str, float]:
    """Run ``fn`` in a worker thread; report how late the loop's 1 ms ticks were meanwhile."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    ticks = 0
    job = loop.run_in_executor(None, fn)
    while not job.done():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        worst = max(worst, time.perf_counter() - before - tick)
        ticks += 1
    await job
    return {"max_stall_ms": round(worst * 1000, 2), "ticks": ticks}


async def partial_image_costs(runs: int) -> dict[str, Any]:
    with FakeOpenAI() as srv:
        srv.image_max_side = None  # full 1024x1024 pictures
        client = OpenAIClient(Endpoint(base_url=srv.base_url, api_key="sk-bench"), read_timeout=60.0)
        events: list[Any] = []
        try:
            async for ev in stream_image(client, "a bench of lighthouses", partial_images=3, size="1024x1024"):
                events.append(ev)
        finally:
            await client.aclose()
    partials = [e for e in events if isinstance(e, PartialImage)]
    b64 = [base64.b64encode(p.data).decode() for p in partials]
    out: dict[str, Any] = {
        "events": len(events),
        "partials": len(partials),
        "partial_png_bytes": [len(p.data) for p in partials],
        "base64_decode": timed(lambda: [base64.b64decode(s) for s in b64], runs),
        "pillow_decode_per_partial": timed(lambda: [_pillow_decode(p.data) for p in partials], runs),
    }
    out["pillow_decode_per_partial"] = _per_item(out["pillow_decode_per_partial"], len(partials))
    out["base64_decode"] = _per_item(out["base64_decode"], len(partials))
    qt = _qt_decoder()
    if qt is not None:
        out["qimage_decode_per_partial"] = _per_item(timed(lambda: [qt(p.data) for p in partials], runs),
                                                     len(partials))  # fmt: skip
    return out


def _per_item(figures: dict[str, float], n: int) -> dict[str, float]:
    return {k: (round(v / n, 2) if k.endswith("_ms") and n else v) for k, v in figures.items()}


def _pillow_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.load()


def _qt_decoder() -> Callable[[bytes], Any] | None:
    try:
        from PySide6.QtGui import QImage
    except ImportError:
        return None

    def decode(data: bytes) -> Any:
        img = QImage()
        if not img.loadFromData(data):
            raise RuntimeError("QImage could not decode a partial image")
        return img

    return decode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        path = Path(tmp) / "camera.jpg"
        started = time.perf_counter()
        path.write_bytes(F.jpeg_bytes(F.photo(6000, 4000, seed=24), exif=F.private_exif(6), quality=92))
        made_ms = (time.perf_counter() - started) * 1000
        thumb = thumbnail_only(path)
        prepared = prepare_image(path)
        report: dict[str, Any] = {
            "source": {
                "width": 6000,
                "height": 4000,
                "megapixels": 24.0,
                "jpeg_bytes": path.stat().st_size,
                "generated_in_ms": round(made_ms),
            },
            "thumbnail_only": {**timed(lambda: thumbnail_only(path), args.runs), "size": [thumb.width, thumb.height]},
            "thumbnail_full_decode_no_draft": timed(lambda: full_decode_thumbnail(path), max(3, args.runs // 2)),
            "prepare_image_auto": {
                **timed(lambda: prepare_image(path, "auto"), args.runs),
                "size": [prepared.width, prepared.height],
                "bytes": len(prepared.data),
            },
            "prepare_image_low": timed(lambda: prepare_image(path, "low"), args.runs),
            "loop_during_thumbnail": asyncio.run(loop_stall_during(lambda: thumbnail_only(path))),
            "loop_during_prepare": asyncio.run(loop_stall_during(lambda: prepare_image(path))),
        }
    report["partial_images_1024"] = asyncio.run(partial_image_costs(args.runs))
    print(json.dumps({"bench": "images", **report}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
