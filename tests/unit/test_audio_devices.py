"""assistant_app.media.audio_devices with an injected fake sounddevice, and without PortAudio at all."""

from __future__ import annotations

import sys

import pytest

from assistant_app.media.audio_devices import (
    NO_DEVICE_REASON,
    AudioDevices,
    AudioUnavailableError,
    DeviceKey,
    DeviceNotFoundError,
    NoInputDeviceError,
)
from tests.support.audio_fixtures import no_portaudio  # noqa: F401 - fixture
from tests.support.fake_sounddevice import FakeDevice, FakeSoundDevice


def machine() -> FakeSoundDevice:
    return FakeSoundDevice(
        [
            FakeDevice("HDA Intel PCH: ALC3246 Analog", default_samplerate=44100, max_input_channels=2),
            FakeDevice("Speakers", max_input_channels=0),
            FakeDevice("pulse", hostapi=0, default_samplerate=44100, max_input_channels=32),
            FakeDevice("USB Headset", hostapi=1, default_samplerate=48000, max_input_channels=1),
        ],
        hostapis=("ALSA", "JACK Audio Connection Kit"),
        default_input=2,
    )


def test_lists_only_inputs_with_host_api_rate_and_channels() -> None:
    inputs = AudioDevices(machine()).list_inputs()
    assert [(d.index, d.name, d.hostapi, d.default_samplerate, d.max_input_channels) for d in inputs] == [
        (0, "HDA Intel PCH: ALC3246 Analog", "ALSA", 44100.0, 2),
        (2, "pulse", "ALSA", 44100.0, 32),
        (3, "USB Headset", "JACK Audio Connection Kit", 48000.0, 1),
    ]
    assert [d.is_default for d in inputs] == [False, True, False]


def test_a_device_is_found_by_name_and_host_api_even_after_its_index_moved() -> None:
    sd = machine()
    devices = AudioDevices(sd)
    key = devices.list_inputs()[2].key
    assert DeviceKey.from_json(key.to_json()) == key
    sd.devices.insert(0, FakeDevice("Webcam Mic"))  # plugging something in shifts every index
    sd.default.device = [3, -1]
    found = devices.resolve(key)
    assert found.name == "USB Headset" and found.index == 4
    assert devices.resolve(None).name == "pulse"  # None = the system default


def test_a_missing_device_says_which_one() -> None:
    devices = AudioDevices(machine())
    with pytest.raises(DeviceNotFoundError, match="“Blue Yeti” \\(ALSA\\) is not connected"):
        devices.resolve(DeviceKey("Blue Yeti", "ALSA"))
    # A host API renamed between PortAudio builds still finds a uniquely named device.
    assert devices.resolve(DeviceKey("USB Headset", "JACK")).index == 3


def test_no_devices_at_all() -> None:
    devices = AudioDevices(FakeSoundDevice([], default_input=None))
    assert devices.list_inputs() == []
    assert devices.default_input() is None
    assert devices.unavailable_reason() == NO_DEVICE_REASON
    with pytest.raises(NoInputDeviceError, match="No microphone found"):
        devices.resolve(None)


def test_rate_support_comes_from_portaudio_check() -> None:
    sd = FakeSoundDevice([FakeDevice("hw:1", rates={44100, 48000}, channels={2})])
    devices = AudioDevices(sd)
    (dev,) = devices.list_inputs()
    assert not devices.supports(dev, 16000, 1)
    assert not devices.supports(dev, 48000, 1)
    assert devices.supports(dev, 48000, 2)


def test_refresh_reinitialises_portaudio_and_sees_new_devices() -> None:
    sd = FakeSoundDevice([])
    sd.after_refresh = [FakeDevice("USB Mic")]
    devices = AudioDevices(sd)
    assert devices.list_inputs() == []
    assert [d.name for d in devices.refresh()] == ["USB Mic"]
    assert sd.initialized == 1  # terminated once, initialised once


def test_missing_portaudio_is_explained_not_fatal(no_portaudio) -> None:  # noqa: F811 - the fixture
    devices = AudioDevices()
    reason = devices.unavailable_reason()
    assert reason is not None and reason.startswith("Dictation needs the PortAudio library")
    if sys.platform.startswith("linux"):
        assert "libportaudio2" in reason
    with pytest.raises(AudioUnavailableError, match="PortAudio"):
        devices.list_inputs()
    assert "sounddevice" not in sys.modules or sys.modules["sounddevice"] is None


def test_missing_sounddevice_package_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    assert "sounddevice package" in (AudioDevices().unavailable_reason() or "")
