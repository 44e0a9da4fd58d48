"""Benchmark push-to-talk dictation: capture latency, release-to-upload, upload size, CPU while recording.

Prints one JSON document. Never passes or fails on time. Figures:

* ``press_to_first_block_ms``: from ``start()`` to the first audio block captured after the press, with the
  microphone kept ready (stream open, ~300 ms pre-roll) and cold (the stream is opened on the press);
  PulseAudio virtual microphone, medians of ``--repeats`` presses;
* ``release_to_request_ms``: from ``stop()`` (release) to the whole request body received by the loopback
  server, after ``--seconds`` of speech (espeak-ng played into the virtual microphone, real time); the same
  engine fed by a fake microphone is measured too (it needs no audio server);
* ``ratio_vs_wav_16bit_16k`` / ``bytes_per_minute``: what was uploaded per minute of uploaded audio against
  16-bit 16 kHz mono WAV (the server decodes each upload to measure it); ``encodings``: every format on the
  same trimmed speech;
* ``cpu_percent_while_recording``: process CPU time over wall time while recording (100 = one core busy),
  and while idle with the microphone kept ready.

    /tmp/venv/bin/python bench/bench_dictation.py [--seconds 60] [--repeats 5]

Without PulseAudio configured, a private one is started (and stopped by PID) when ``pulseaudio`` is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support (loopback server, fake microphone, speech) when run as a script

from _virtual_mic import virtual_microphone  # noqa: E402

from assistant_app.api.client import OpenAIClient  # noqa: E402
from assistant_app.api.endpoint import Endpoint  # noqa: E402
from assistant_app.media.audio_devices import AudioDevices, AudioError  # noqa: E402
from assistant_app.media.dictation import TRANSCRIBING, DictationSession, LevelChanged, StateChanged  # noqa: E402
from assistant_app.media.encoding import FORMATS, available_formats, decode_file, encode  # noqa: E402
from assistant_app.media.recorder import Recorder  # noqa: E402
from assistant_app.media.recordings import RecordingStore  # noqa: E402
from assistant_app.media.speech import trim_silence  # noqa: E402
from tests.support.fake_openai import FakeOpenAI  # noqa: E402
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice  # noqa: E402
from tests.support.speech_audio import espeak_speech  # noqa: E402

SR = 16000
SENTENCES = [
    "Please add a paragraph about the quarterly results to the report.",
    "The meeting moved to Thursday afternoon, so we have two more days.",
    "Remind me to check the build logs and the failing integration test.",
    "Summarise the main points of the design document in five bullet points.",
]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def speech_of_length(seconds: float) -> np.ndarray:
    """espeak-ng sentences with natural pauses, about ``seconds`` long, as 16 kHz float32."""
    parts, total, i = [], 0, 0
    while total < seconds * SR:
        s = espeak_speech(SENTENCES[i % len(SENTENCES)])
        assert s is not None, "espeak-ng is needed"
        parts += [s, np.zeros(int(0.4 * SR), np.float32)]
        total += len(s) + int(0.4 * SR)
        i += 1
    return np.concatenate(parts)[: int(seconds * SR)]


def write_wav(samples: np.ndarray, path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


class Stamps:
    """The loopback server calls this once it holds the whole request body: when, how big, how long."""

    def __init__(self) -> None:
        self.received: list[float] = []
        self.bytes: list[int] = []
        self.seconds: list[float] = []

    def __call__(self, req: Any) -> str:
        self.received.append(time.perf_counter())
        data = req.files["file"][2]
        self.bytes.append(len(data))
        self.seconds.append(len(decode_file(data)) / SR)
        return "ok"

    def figures(self, released: float) -> dict[str, Any]:
        seconds = sum(self.seconds)
        wav = 2 * SR * seconds
        return {
            "release_to_request_ms": ms(self.received[-1] - released) if self.received else None,
            "uploads": len(self.bytes),
            "uploaded_bytes": sum(self.bytes),
            "uploaded_seconds": round(seconds, 2),
            "bytes_per_minute": round(sum(self.bytes) / seconds * 60) if seconds else None,
            "ratio_vs_wav_16bit_16k": round(sum(self.bytes) / wav, 3) if seconds else None,
        }


async def press_latency(devices: AudioDevices, *, ready: bool, repeats: int) -> dict[str, Any]:
    first = asyncio.Event()
    recorder = Recorder(devices, keep_ready=ready, on_level=lambda _l: first.set())
    values, prerolls = [], []
    if ready:  # "ready" = the stream is open and flowing (prepared at app start, long before a press)
        await recorder.open()
        await recorder.start()
        await asyncio.wait_for(first.wait(), 30)
        await recorder.cancel()
        await asyncio.sleep(0.5)  # the pre-roll fills
    for _ in range(repeats):
        first.clear()
        await recorder.start()
        await asyncio.wait_for(first.wait(), 30)
        await asyncio.sleep(0.1)
        rec = await recorder.stop()
        values.append(rec.stats.press_to_first_block)
        prerolls.append(rec.preroll_seconds)
        await asyncio.sleep(0.3 if ready else 0.0)
    await recorder.close()
    done = [v for v in values if v is not None]
    return {
        "median_ms": ms(statistics.median(done)) if done else None,
        "max_ms": ms(max(done)) if done else None,
        "all_ms": [ms(v) for v in values],
        "preroll_ms": ms(statistics.median(prerolls)),
        "stream_rate": recorder.stats.stream_rate,
    }


async def dictate(session: DictationSession, play: Any, stamps: Stamps, *, wait_flowing: bool) -> dict[str, Any]:
    """Press, speak (``play``), release; returns latency, size and CPU figures."""
    marks: dict[str, float] = {}
    levels: list[float] = []
    flowing = asyncio.Event()

    def on_event(event: Any) -> None:
        if isinstance(event, LevelChanged):
            levels.append(event.level.rms_dbfs)
            if len(levels) >= 10:
                flowing.set()
        elif isinstance(event, StateChanged) and event.state == TRANSCRIBING:
            marks.setdefault("transcribing", time.perf_counter())

    session.on_event = on_event
    await session.start()
    if wait_flowing:
        await asyncio.wait_for(flowing.wait(), 30)  # speak only once frames flow
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await play()
    cpu1, wall1 = time.process_time(), time.perf_counter()
    released = time.perf_counter()
    text = await session.stop()
    assert text == "ok" and not session.store.all(), "the upload failed"
    return {
        **stamps.figures(released),
        "release_to_upload_start_ms": ms(marks["transcribing"] - released) if "transcribing" in marks else None,
        "cpu_percent_while_recording": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 2),
        "recording_wall_seconds": round(wall1 - wall0, 1),
    }


def format_sizes(samples: np.ndarray) -> dict[str, Any]:
    """Each available format on the same (trimmed) speech: size against WAV, and a one-shot encode's time."""
    minutes = len(samples) / SR / 60
    wav_per_min = 2 * SR * 60
    report: dict[str, Any] = {"wav_16bit_16k_bytes_per_minute": wav_per_min, "formats": {}}
    for name in available_formats():
        started = time.perf_counter()
        size = sum(len(p.data) for p in encode(samples, fmt=FORMATS[name]))
        report["formats"][name] = {"ratio": round(size / minutes / wav_per_min, 3),
                                   "batch_encode_ms": ms(time.perf_counter() - started)}  # fmt: skip
    return report


async def run_real(devices: AudioDevices, seconds: float, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "press_to_first_block_ready": await press_latency(devices, ready=True, repeats=repeats),
        "press_to_first_block_cold": await press_latency(devices, ready=False, repeats=repeats),
    }
    speech = speech_of_length(seconds)
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as srv:
        wav = write_wav(speech, Path(tmp) / "speech.wav")
        stamps = Stamps()
        srv.transcription_text = stamps
        client = OpenAIClient(Endpoint(base_url=srv.base_url, kind="compatible"))
        recorder = Recorder(devices, keep_ready=True)
        session = DictationSession(recorder, RecordingStore(Path(tmp) / "rec"), lambda: client)
        await session.prepare()
        # PortAudio's ALSA->PulseAudio plugin spins for ~1 s until a new stream delivers frames: measure the
        # idle cost only once the ready stream flows (a press that waits for frames, then Esc).
        flowing = asyncio.Event()
        session.on_event = lambda e: isinstance(e, LevelChanged) and flowing.set()
        await session.start()
        await asyncio.wait_for(flowing.wait(), 30)
        await session.cancel()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(5.0)
        out["cpu_percent_idle_mic_ready"] = round(100 * (time.process_time() - cpu0) / (time.perf_counter() - wall0), 2)

        async def play() -> None:
            await asyncio.to_thread(subprocess.run, ["paplay", "--device=virt_speaker", str(wav)], check=True)
            await asyncio.sleep(0.5)  # the tail of the speech through the loopback

        out["virtual_mic"] = await dictate(session, play, stamps, wait_flowing=True)
        await session.close()
        await client.aclose()
    return out


async def run_fake(seconds: float) -> tuple[dict[str, Any], np.ndarray]:
    """The same engine with a fake 48 kHz stereo microphone fed one second at a time (no audio server)."""
    speech = speech_of_length(seconds)
    sd = FakeSoundDevice([FakeDevice("fake", rates={48000}, channels={2})])
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as srv:
        stamps = Stamps()
        srv.transcription_text = stamps
        client = OpenAIClient(Endpoint(base_url=srv.base_url, kind="compatible"))
        session = DictationSession(Recorder(AudioDevices(sd)), RecordingStore(Path(tmp) / "rec"), lambda: client)
        stereo = np.repeat(np.repeat(speech, 3)[:, None], 2, axis=1)

        async def play() -> None:
            for i in range(0, len(stereo), 48000):
                await asyncio.to_thread(sd.last_stream.feed, stereo[i : i + 48000])
                await asyncio.sleep(0.02)  # paced, so the encoder works while "speaking" as it does live

        figures = await dictate(session, play, stamps, wait_flowing=False)
        figures.pop("cpu_percent_while_recording")  # fed faster than real time: not a meaningful rate
        await session.close()
        await client.aclose()
    return figures, speech


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"bench": "dictation", "speech_seconds": args.seconds}
    fake, speech = await run_fake(args.seconds)
    kept, _ = trim_silence(speech)
    result["fake_mic_48k_stereo"] = fake
    result["encodings"] = format_sizes(kept)
    with virtual_microphone() as audio:
        result["audio_server"] = audio
        if audio is None:
            result["virtual_mic"] = "skipped: no PulseAudio (install pulseaudio pulseaudio-utils)"
            return result
        try:
            devices = AudioDevices()
            devices.resolve(None)
        except AudioError as exc:
            result["virtual_mic"] = f"skipped: {exc}"
            return result
        result.update(await run_real(devices, args.seconds, args.repeats))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the dictated speech")
    parser.add_argument("--repeats", type=int, default=5, help="presses per latency figure")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
