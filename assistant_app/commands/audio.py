"""``assistant-app transcribe FILE`` prints a transcript; ``assistant-app devices`` lists microphones.

``transcribe`` uploads the file as it is when the API accepts its format and size. A file over the
upload limit, or in a format the API does not take, is decoded and re-encoded compactly (split into
several uploads when needed); when that is impossible the command says why. gpt-4o transcription
models stream: the words are printed as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

ACCEPTED = {
    ".flac": "audio/flac", ".mp3": "audio/mpeg", ".mp4": "audio/mp4", ".mpeg": "audio/mpeg", ".mpga": "audio/mpeg",
    ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav",
    ".webm": "audio/webm",
}  # fmt: skip


def register(subparsers: Any) -> None:
    t = subparsers.add_parser("transcribe", help="print the transcript of an audio file")
    t.add_argument("file", type=Path)
    models = "whisper-1 (default), gpt-4o-transcribe, gpt-4o-mini-transcribe, or a server's own model"
    t.add_argument("--model", "-m", default="whisper-1", help=models)
    t.add_argument("--language", "-l", help="the spoken language as ISO-639-1, e.g. en (improves accuracy)")
    t.add_argument("--prompt", "-p", help="vocabulary or style hint")
    t.add_argument("--provider", help="provider id from settings (default: the active one)")
    t.set_defaults(handler=run_transcribe)
    d = subparsers.add_parser("devices", help="list microphones (input devices) with their default sample rates")
    d.set_defaults(handler=run_devices)


def _fail(message: str, code: int = 1) -> int:
    print(f"assistant-app: {message}", file=sys.stderr)
    return code


def _uploads(path: Path) -> list[tuple[bytes, str, str]]:
    """(data, filename, mime) for each upload; raises ValueError with the reason when impossible."""
    from assistant_app.api.audio import MAX_UPLOAD_BYTES
    from assistant_app.media.audio_devices import AudioError
    from assistant_app.media.encoding import decode_file, encode

    data = path.read_bytes()
    mime = ACCEPTED.get(path.suffix.lower())
    if mime is not None and len(data) <= MAX_UPLOAD_BYTES:
        return [(data, path.name, mime)]
    if mime:
        why = f"it is {len(data) / 1e6:.1f} MB, over the {MAX_UPLOAD_BYTES // 2**20} MB upload limit"
    else:
        why = f"the API does not accept {path.suffix or 'files without an extension'} (use {', '.join(ACCEPTED)})"
    try:
        parts = encode(decode_file(data))
    except AudioError as exc:
        raise ValueError(f"{path} cannot be sent: {why}, and it could not be re-encoded ({exc}).") from None
    if not parts:
        raise ValueError(f"{path} holds no audio.")
    print(f"assistant-app: {why}: re-encoded into {len(parts)} upload(s).", file=sys.stderr)
    return [(p.data, p.filename(f"{path.stem}-{i + 1}"), p.mime) for i, p in enumerate(parts)]


async def _transcribe(args: argparse.Namespace) -> int:
    from assistant_app.api.audio import stream_transcription, supports_streaming, transcribe
    from assistant_app.api.errors import APIError
    from assistant_app.core.context import AppContext

    path: Path = args.file
    if not path.is_file():
        return _fail(f"no such file: {path}", 2)
    try:
        uploads = _uploads(path)
    except (ValueError, OSError) as exc:
        return _fail(str(exc), 2)
    ctx = AppContext.create()
    try:
        if args.provider:
            ctx.settings.active_provider = args.provider
        client = ctx.client()
        texts: list[str] = []
        for data, filename, mime in uploads:
            prompt = " ".join(filter(None, [args.prompt, " ".join(texts)[-200:]])) or None
            kw: dict[str, Any] = {"model": args.model, "language": args.language, "prompt": prompt}
            if texts:
                sys.stdout.write(" ")
            if supports_streaming(args.model):
                text = ""
                async for delta in stream_transcription(client, data, filename, mime, **kw):
                    text += delta
                    sys.stdout.write(delta)
                    sys.stdout.flush()
                texts.append(text.strip())
            else:
                texts.append(await transcribe(client, data, filename, mime, **kw))
                sys.stdout.write(texts[-1])
        sys.stdout.write("\n")
        sys.stdout.flush()
        return 0
    except APIError as exc:
        sys.stdout.flush()
        return _fail(str(exc))
    finally:
        await ctx.aclose()
        ctx.close()


def run_transcribe(args: argparse.Namespace) -> int:
    return asyncio.run(_transcribe(args))


def run_devices(_args: argparse.Namespace, devices: Any = None) -> int:
    from assistant_app.media.audio_devices import AudioDevices, AudioError

    devices = devices or AudioDevices()  # tests pass AudioDevices(fake sounddevice)
    try:
        inputs = devices.list_inputs()
    except AudioError as exc:
        return _fail(str(exc))
    if not inputs:
        return _fail("No microphone found. Plug one in, or check that the audio server (PulseAudio, PipeWire) "
                     "is running and reachable from this session.")  # fmt: skip
    for d in inputs:
        mark = "*" if d.is_default else " "
        print(f"{mark} {d.index:>3}  {d.name}  [{d.hostapi}]  {d.default_samplerate:.0f} Hz, "
              f"{d.max_input_channels} input channel{'s' if d.max_input_channels != 1 else ''}")  # fmt: skip
    print("* = default input. Dictation records at 16000 Hz when a device allows it, else at its default rate.")
    return 0
