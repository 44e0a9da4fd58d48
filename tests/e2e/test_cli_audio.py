"""`assistant-app transcribe` (a real process against the loopback server) and `assistant-app devices`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from assistant_app.commands.audio import run_devices
from assistant_app.media.audio_devices import AudioDevices
from tests.e2e.harness import REPO
from tests.support import schema
from tests.support.audio_fixtures import no_portaudio  # noqa: F401 - fixture
from tests.support.fake_faults import Fault
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.support.speech_audio import syllables

pytestmark = pytest.mark.e2e
KEY = "sk-cli-audio-test-0000"
TEXT = "Dictated words come back from the server."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        srv.validate_requests = True
        yield srv


@pytest.fixture
def srv(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.clear_requests()
    server.clear_faults()
    server.transcription_text = TEXT
    yield server
    server.clear_faults()


def run_cli(home: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(ASSISTANT_APP_HOME=str(home), OPENAI_API_KEY=KEY, OPENAI_BASE_URL=base_url,
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")  # fmt: skip
    return subprocess.run([sys.executable, "-m", "assistant_app", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture
def speech_file(tmp_path: Path) -> Path:
    path = tmp_path / "note.wav"
    soundfile.write(path, syllables(2.0), 16000, subtype="PCM_16")
    return path


def test_transcribe_prints_the_text(tmp_path: Path, srv: FakeOpenAI, speech_file: Path) -> None:
    proc = run_cli(tmp_path, srv.base_url, "transcribe", str(speech_file), "--language", "en", "--prompt", "PySide6")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == TEXT + "\n"
    (req,) = srv.requests
    schema.validate_recorded(req)
    assert req.form == {"model": "whisper-1", "language": "en", "prompt": "PySide6"}
    assert req.files["file"] == ("note.wav", "audio/wav", speech_file.read_bytes())  # sent as it is


def test_transcribe_streams_with_a_gpt4o_model(tmp_path: Path, srv: FakeOpenAI, speech_file: Path) -> None:
    proc = run_cli(tmp_path, srv.base_url, "transcribe", str(speech_file), "-m", "gpt-4o-mini-transcribe")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == TEXT + "\n"
    assert srv.last_request.form == {"model": "gpt-4o-mini-transcribe", "stream": "true"}


def test_a_format_the_api_refuses_is_re_encoded(tmp_path: Path, srv: FakeOpenAI) -> None:
    aiff = tmp_path / "memo.aiff"
    soundfile.write(aiff, np.stack([syllables(1.5)] * 2, axis=1), 44100)
    proc = run_cli(tmp_path, srv.base_url, "transcribe", str(aiff))
    assert proc.returncode == 0, proc.stderr
    assert "re-encoded into 1 upload" in proc.stderr
    (req,) = srv.requests
    name, mime, data = req.files["file"]
    assert name.startswith("memo-1.") and mime in ("audio/ogg", "audio/flac", "audio/wav")
    assert len(data) < aiff.stat().st_size / 4


def test_server_errors_go_to_stderr_with_a_non_zero_exit(tmp_path: Path, srv: FakeOpenAI, speech_file: Path) -> None:
    srv.enqueue_fault(Fault.unauthorized())
    proc = run_cli(tmp_path, srv.base_url, "transcribe", str(speech_file))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("assistant-app: ") and "Traceback" not in proc.stderr
    assert KEY not in proc.stderr


def test_missing_and_unreadable_files_are_refused(tmp_path: Path, srv: FakeOpenAI) -> None:
    missing = run_cli(tmp_path, srv.base_url, "transcribe", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "notes.txt"
    junk.write_text("not audio")
    refused = run_cli(tmp_path, srv.base_url, "transcribe", str(junk))
    assert refused.returncode == 2
    assert "does not accept .txt" in refused.stderr and "could not be re-encoded" in refused.stderr
    assert srv.requests == []


def test_devices_lists_inputs_with_their_rates(capsys: pytest.CaptureFixture[str]) -> None:
    sd = FakeSoundDevice([FakeDevice("USB Mic", default_samplerate=48000, max_input_channels=1),
                          FakeDevice("Speakers", max_input_channels=0), FakeDevice("pulse", default_samplerate=44100)],
                         default_input=2)  # fmt: skip
    assert run_devices(argparse.Namespace(), AudioDevices(sd)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["0", "USB", "Mic", "[ALSA]", "48000", "Hz,", "1", "input", "channel"]
    assert out[1].split()[:2] == ["*", "2"] and "44100 Hz" in out[1]
    assert "Speakers" not in "\n".join(out)


def test_devices_explains_why_there_are_none(capsys: pytest.CaptureFixture[str], no_portaudio) -> None:  # noqa: F811
    assert run_devices(argparse.Namespace(), AudioDevices(FakeSoundDevice([], default_input=None))) == 1
    assert "No microphone found" in capsys.readouterr().err
    assert run_devices(argparse.Namespace()) == 1
    assert "libportaudio2" in capsys.readouterr().err or sys.platform != "linux"
