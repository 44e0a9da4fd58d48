"""Deterministic content for the fake OpenAI server: replies, token counts, pictures, transcripts."""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
import struct
import wave
from collections.abc import Iterable
from typing import Any

from PIL import Image, ImageDraw

# "Tokens" are whitespace-led pieces of at most 6 characters: deterministic, roughly the
# granularity real servers stream at, and they split long words (and multibyte text) too.
_TOKEN_RE = re.compile(r"\s*\S{1,6}|\s+")


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into streaming pieces whose concatenation is exactly ``text``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(split_tokens(text))


def message_texts(content: Any) -> list[str]:
    """The text of a chat message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
    return out


def count_image_parts(messages: Iterable[Any]) -> int:
    n = 0
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            n += sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
    return n


def prompt_token_count(messages: Any) -> int:
    """Deterministic prompt size: text pieces + 4 per message + 3, and 85 per image part."""
    if not isinstance(messages, list):
        return 0
    total = 3
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        total += 4 + sum(count_tokens(t) for t in message_texts(msg.get("content")))
    return total + 85 * count_image_parts(messages)


def last_user_text(messages: Any) -> str:
    if isinstance(messages, list):
        for msg in reversed(messages):
            if isinstance(msg, dict) and msg.get("role") == "user":
                return " ".join(message_texts(msg.get("content")))
    return ""


def echo_reply(body: dict[str, Any]) -> str:
    """The default chat reply: ``Echo: <last user text>``."""
    return f"Echo: {last_user_text(body.get('messages'))}"


MARKDOWN_REPLY = """\
## Fake reply

This answer comes from the **fake OpenAI server**, so the text is *always the same*:

- a list item with `inline code`
- a [link](https://example.com)

```python
def fibonacci(n: int) -> list[int]:
    \"\"\"Return the first n Fibonacci numbers.\"\"\"
    seq = [0, 1]
    while len(seq) < n:
        seq.append(seq[-1] + seq[-2])
    return seq[:n]
```

| Model | Tokens |
|-------|-------:|
| fake  | 42     |

Done. Ünïcödé 🎉 works too.
"""


def markdown_reply(body: dict[str, Any]) -> str:
    """The CLI's default reply: quotes the question, then fixed Markdown with a python code block."""
    question = last_user_text(body.get("messages")).strip().replace("\n", " ")
    if len(question) > 80:
        question = question[:79] + "…"
    return (f"> {question}\n\n" if question else "") + MARKDOWN_REPLY


def chat_usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": min(cached_tokens, prompt_tokens), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


# ---- pictures ---------------------------------------------------------------------------------


def parse_size(size: Any, default: tuple[int, int] = (1024, 1024)) -> tuple[int, int]:
    if isinstance(size, str):
        m = re.fullmatch(r"(\d{1,4})x(\d{1,4})", size.strip())
        if m and int(m.group(1)) > 0 and int(m.group(2)) > 0:
            return int(m.group(1)), int(m.group(2))
    return default


def _rng(seed_text: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "big"))


def render_picture(prompt: str, width: int, height: int, base: Image.Image | None = None) -> Image.Image:
    """A deterministic landscape (sky, sun, hills, fine grass/stars texture) seeded by ``prompt``.

    With ``base`` (an edit), the uploaded picture is the background and the scene is drawn over it.
    The fine texture matters: it is what the blurred partial images lack.
    """
    rng = _rng(prompt)
    if base is not None:
        img = base.convert("RGB").resize((width, height))
    else:
        top = (rng.randrange(20, 90), rng.randrange(60, 140), rng.randrange(150, 255))
        bottom = (rng.randrange(180, 255), rng.randrange(120, 200), rng.randrange(60, 160))
        column = Image.new("RGB", (1, 256))
        for y in range(256):
            t = y / 255
            column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
        img = column.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    side = min(width, height)
    cx, cy, r = rng.uniform(0.2, 0.8) * width, rng.uniform(0.15, 0.4) * height, side * rng.uniform(0.06, 0.12)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 236, 150))
    for layer in range(3):
        shade = 40 + 30 * layer
        colour = (shade // 2, 80 + shade, shade // 2)
        base_y = height * (0.55 + 0.12 * layer)
        points = [(0, height)]
        for i in range(13):
            x = width * i / 12
            points.append((x, base_y - rng.uniform(0, 0.18) * height * math.sin(math.pi * (i + layer) / 6) ** 2))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    # Fine detail: single-pixel stars in the sky, short grass strokes on the hills.
    for _ in range(width * height // 120):
        x, y = rng.randrange(width), rng.randrange(height)
        if y < height * 0.5:
            v = rng.randrange(200, 256)
            draw.point((x, y), fill=(v, v, v))
        else:
            g = rng.randrange(90, 220)
            draw.line((x, y, x + rng.randrange(-2, 3), y - rng.randrange(2, 6)), fill=(g // 3, g, g // 4))
    return img


def progressive_versions(final: Image.Image, partials: int) -> list[Image.Image]:
    """``partials`` previews of ``final``, coarse mosaic first, each one finer than the last.

    A mosaic (box-downscale, nearest-upscale) rather than a blur: PNG then grows with detail, so
    later previews are both sharper and bigger, as real partial images are.
    """
    width, height = final.size
    out = []
    for i in range(partials):
        factor = 2 ** (partials - i + 2)
        small = final.resize((max(1, width // factor), max(1, height // factor)), Image.Resampling.BOX)
        out.append(small.resize((width, height), Image.Resampling.NEAREST))
    return out


def encode_image(img: Image.Image, output_format: str = "png", compression: int | None = None) -> bytes:
    buf = io.BytesIO()
    fmt = (output_format or "png").lower()
    if fmt == "jpeg":
        img.convert("RGB").save(buf, "JPEG", quality=max(1, min(95, compression if compression is not None else 90)))
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=compression if compression is not None else 90)
    else:
        img.save(buf, "PNG")
    return buf.getvalue()


def decode_image(data: bytes) -> Image.Image | None:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:  # any undecodable upload just means "no base picture"
        return None
    return img


def image_usage(prompt: str, images_in: int, images_out: int) -> dict[str, Any]:
    text = count_tokens(prompt)
    image_in = 65 * images_in
    output = 272 * images_out
    return {
        "total_tokens": text + image_in + output,
        "input_tokens": text + image_in,
        "output_tokens": output,
        "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
    }


# ---- transcripts ------------------------------------------------------------------------------

DEFAULT_TRANSCRIPT = "The quick brown fox jumps over the lazy dog."


def audio_duration(data: bytes) -> float:
    """Seconds of audio: exact for WAV, else a guess from the size (16 kHz 16-bit mono)."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            return w.getnframes() / float(w.getframerate() or 1)
    except (wave.Error, EOFError, ValueError, struct.error):
        return len(data) / 32000.0


def _timestamps(text: str, duration: float) -> list[tuple[str, float, float]]:
    words = text.split()
    step = (duration or 1.0) / max(1, len(words))
    return [(w, round(i * step, 3), round((i + 1) * step, 3)) for i, w in enumerate(words)]


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def subtitles(text: str, duration: float, vtt: bool) -> str:
    end = duration or 1.0
    sep = "." if vtt else ","
    cue = f"{_clock(0, sep)} --> {_clock(end, sep)}\n{text}\n"
    return f"WEBVTT\n\n{cue}" if vtt else f"1\n{cue}"


def verbose_transcript(text: str, duration: float, language: str) -> dict[str, Any]:
    words = _timestamps(text, duration)
    return {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": text,
        "words": [{"word": w, "start": s, "end": e} for w, s, e in words],
        "segments": [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": duration,
                "text": text,
                "tokens": list(range(50364, 50364 + count_tokens(text))),
                "temperature": 0.0,
                "avg_logprob": -0.25,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
        ],
        "usage": {"type": "duration", "seconds": math.ceil(duration)},
    }


def diarized_transcript(text: str, duration: float) -> dict[str, Any]:
    return {
        "task": "transcribe",
        "duration": duration,
        "text": text,
        "segments": [
            {
                "type": "transcript.text.segment",
                "id": "seg_0",
                "start": 0.0,
                "end": duration,
                "text": text,
                "speaker": "A",
            }
        ],
        "usage": {"type": "duration", "seconds": math.ceil(duration)},
    }


def transcription_token_usage(text: str, duration: float, prompt: str = "") -> dict[str, Any]:
    audio = max(1, round(duration * 10))
    text_in = count_tokens(prompt)
    out = count_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio + text_in,
        "input_token_details": {"text_tokens": text_in, "audio_tokens": audio},
        "output_tokens": out,
        "total_tokens": audio + text_in + out,
    }
