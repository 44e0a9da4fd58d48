"""Input devices through ``sounddevice`` (PortAudio), imported lazily.

The ``sounddevice`` module is injected so tests can hand in a fake. It is imported only when
first needed: on Linux the wheel does not bundle PortAudio, and ``import sounddevice`` raises
``OSError`` without it; the rest of the app must keep working and explain what to install.

A device is remembered by (name, host API), never by index: indices move when devices are
plugged in or out.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any


class AudioError(Exception):
    """Base of the audio errors; ``str()`` is a message a person can act on."""


class AudioUnavailableError(AudioError):
    """No audio library: sounddevice or PortAudio is missing."""


class NoInputDeviceError(AudioError):
    """PortAudio works but offers no input device (no audio server, nothing plugged in)."""


class DeviceNotFoundError(AudioError):
    """The remembered device is not present any more."""


def portaudio_missing_reason(detail: str = "") -> str:
    if sys.platform.startswith("linux"):
        how = (
            "install libportaudio2 (Debian/Ubuntu: sudo apt install libportaudio2; "
            "Fedora: sudo dnf install portaudio; Arch: sudo pacman -S portaudio), then restart the app"
        )
    elif sys.platform == "darwin":
        how = "reinstall the app, or install PortAudio (brew install portaudio), then restart the app"
    else:
        how = "reinstall the app (its sounddevice package ships PortAudio), then restart it"
    extra = f" ({detail})" if detail else ""
    return f"Dictation needs the PortAudio library: {how}.{extra}"


NO_DEVICE_REASON = (
    "No microphone found. Plug one in, or check that the audio server (PulseAudio, PipeWire) is running, "
    "then press Refresh."
)


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing library into ``AudioUnavailableError`` with the fix."""
    try:
        import sounddevice
    except OSError as exc:  # "PortAudio library not found"
        raise AudioUnavailableError(portaudio_missing_reason(str(exc))) from None
    except ImportError:
        raise AudioUnavailableError(
            "Dictation needs the sounddevice package: reinstall the app (pip install sounddevice)."
        ) from None
    return sounddevice


@dataclass(frozen=True)
class DeviceKey:
    """How a chosen device is stored in the settings."""

    name: str
    hostapi: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "hostapi": self.hostapi}

    @classmethod
    def from_json(cls, data: Any) -> DeviceKey | None:
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            return cls(data["name"], str(data.get("hostapi") or ""))
        return None


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    default_samplerate: float
    max_input_channels: int
    is_default: bool = False

    @property
    def key(self) -> DeviceKey:
        return DeviceKey(self.name, self.hostapi)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})"


class AudioDevices:
    """Lists and resolves input devices. ``sd`` may be a fake module; ``None`` imports the real one lazily."""

    def __init__(self, sd: Any | None = None) -> None:
        self._sd = sd
        self._error: AudioUnavailableError | None = None

    @property
    def sd(self) -> Any:
        """The sounddevice module; raises ``AudioUnavailableError`` (cached) when it cannot load."""
        if self._sd is None:
            if self._error is not None:
                raise self._error
            try:
                self._sd = load_sounddevice()
            except AudioUnavailableError as exc:
                self._error = exc
                raise
        return self._sd

    def unavailable_reason(self) -> str | None:
        """Why dictation cannot work at all (library missing, or no input device), else None."""
        try:
            if not self.list_inputs():
                return NO_DEVICE_REASON
        except AudioError as exc:
            return str(exc)
        return None

    def list_inputs(self) -> list[InputDevice]:
        sd = self.sd
        try:
            devices = list(sd.query_devices())
            hostapis = list(sd.query_hostapis())
        except sd.PortAudioError as exc:
            raise NoInputDeviceError(f"{NO_DEVICE_REASON} (PortAudio: {exc})") from None
        default_index = self._default_input_index()
        result = []
        for position, info in enumerate(devices):
            if int(info.get("max_input_channels", 0)) < 1:
                continue
            index = int(info.get("index", position))
            api = info.get("hostapi", 0)
            api_name = hostapis[api]["name"] if isinstance(api, int) and 0 <= api < len(hostapis) else str(api)
            result.append(
                InputDevice(
                    index=index,
                    name=str(info.get("name", f"device {index}")),
                    hostapi=str(api_name),
                    default_samplerate=float(info.get("default_samplerate") or 0.0),
                    max_input_channels=int(info["max_input_channels"]),
                    is_default=index == default_index,
                )
            )
        return result

    def _default_input_index(self) -> int:
        try:
            pair = self.sd.default.device  # [input, output]; -1 when there is none
            value = pair if isinstance(pair, (int, str)) else pair[0]
            return int(value)
        except (TypeError, ValueError, IndexError, AttributeError):
            return -1

    def default_input(self) -> InputDevice | None:
        devices = self.list_inputs()
        for device in devices:
            if device.is_default:
                return device
        return devices[0] if devices else None

    def resolve(self, key: DeviceKey | None) -> InputDevice:
        """The device stored as ``key`` (None = the system default).

        Raises ``NoInputDeviceError`` when there is no input at all and ``DeviceNotFoundError`` when
        the remembered one is gone (the caller may offer the default instead).
        """
        devices = self.list_inputs()
        if not devices:
            raise NoInputDeviceError(NO_DEVICE_REASON)
        if key is None:
            default = next((d for d in devices if d.is_default), None)
            return default or devices[0]
        for device in devices:
            if device.key == key:
                return device
        # The host API may be renamed across PortAudio builds; a unique name match is still the same device.
        by_name = [d for d in devices if d.name == key.name]
        if len(by_name) == 1:
            return by_name[0]
        raise DeviceNotFoundError(
            f"The microphone “{key.name}” ({key.hostapi}) is not connected. Plug it in and press Refresh, "
            "or choose another one in Settings."
        )

    def supports(self, device: InputDevice, samplerate: float, channels: int) -> bool:
        """Whether the device accepts this rate and channel count (PortAudio's own check, no stream opened)."""
        sd = self.sd
        try:
            sd.check_input_settings(device=device.index, channels=channels, dtype="float32", samplerate=samplerate)
        except (sd.PortAudioError, ValueError):
            return False
        return True

    def refresh(self) -> list[InputDevice]:
        """Re-scan devices. PortAudio enumerates only at initialisation, so this re-initialises it.

        Close every stream first: re-initialising PortAudio invalidates open streams.
        """
        sd = self.sd
        try:
            sd._terminate()
        finally:
            sd._initialize()
        return self.list_inputs()
