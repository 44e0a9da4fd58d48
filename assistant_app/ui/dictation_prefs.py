"""The dictation settings, stored as ``Settings.extra["dictation"]`` (plain Python, no Qt).

Unknown or malformed values fall back to the defaults, so a hand-edited settings file never
stops the app from starting.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from assistant_app.core.settings import Settings
from assistant_app.media.audio_devices import DeviceKey

if TYPE_CHECKING:
    from assistant_app.media.dictation_events import DictationOptions

SECTION = "dictation"
HOLD, TOGGLE = "hold", "toggle"
# F9: a single key, so holding it is comfortable; no input method (IBus/Fcitx use Ctrl/Super+Space),
# text editing or common desktop shortcut uses it, and it types nothing if the app misses the press.
DEFAULT_KEY = "F9"
AUTO_MODEL = ""  # gpt-4o-mini-transcribe on OpenAI itself, whisper-1 on other servers
MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")


def automatic_model(provider_kind: str, separate_server: bool) -> str:
    """The model used when none is chosen: the cheap streaming one on OpenAI, the classic name elsewhere."""
    return "gpt-4o-mini-transcribe" if provider_kind == "openai" and not separate_server else "whisper-1"


@dataclass
class DictationPrefs:
    device: DeviceKey | None = None  # None: the system's default input
    model: str = AUTO_MODEL
    language: str = ""  # ISO-639-1, "" = let the server detect it
    prompt: str = ""  # vocabulary / spelling hint
    mode: str = HOLD  # HOLD: press and hold; TOGGLE: press to start, press again to stop
    key: str = DEFAULT_KEY  # QKeySequence text of the hold-to-talk key
    keep_ready: bool = False  # keep the stream open with a pre-roll, so the first syllable is kept
    send_immediately: bool = False  # send the message as soon as the text is in the box
    base_url: str = ""  # a separate transcription server ("" = the active provider)
    send_key: bool = False  # send the active provider's API key to that separate server
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # keys written by newer versions

    @classmethod
    def from_json(cls, data: Any) -> DictationPrefs:
        if not isinstance(data, dict):
            return cls()
        prefs = cls(extra={k: v for k, v in data.items() if k not in {f.name for f in fields(cls)}})
        prefs.device = DeviceKey.from_json(data.get("device"))
        for name in ("model", "language", "prompt", "key", "base_url"):
            value = data.get(name)
            if isinstance(value, str):
                setattr(prefs, name, value.strip() if name != "prompt" else value)
        if data.get("mode") in (HOLD, TOGGLE):
            prefs.mode = data["mode"]
        for name in ("keep_ready", "send_immediately", "send_key"):
            if isinstance(data.get(name), bool):
                setattr(prefs, name, data[name])
        if not prefs.key:
            prefs.key = DEFAULT_KEY
        return prefs

    @classmethod
    def from_settings(cls, settings: Settings) -> DictationPrefs:
        return cls.from_json(settings.extra.get(SECTION))

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "device": self.device.to_json() if self.device else None,
            "model": self.model,
            "language": self.language,
            "prompt": self.prompt,
            "mode": self.mode,
            "key": self.key,
            "keep_ready": self.keep_ready,
            "send_immediately": self.send_immediately,
            "base_url": self.base_url,
            "send_key": self.send_key,
        }

    def store(self, settings: Settings) -> None:
        settings.extra[SECTION] = self.to_json()

    def model_for(self, provider_kind: str) -> str:
        return self.model or automatic_model(provider_kind, bool(self.base_url))

    def options(self, provider_kind: str) -> DictationOptions:
        from assistant_app.media.dictation_events import DictationOptions  # numpy: not at start-up

        return DictationOptions(
            model=self.model_for(provider_kind), language=self.language or None, prompt=self.prompt.strip() or None
        )
