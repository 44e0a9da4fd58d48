"""What a DictationSession tells its listener (see dictation.py), and the options it runs with."""

from __future__ import annotations

from dataclasses import dataclass

from assistant_app.media.capture import Level


@dataclass(frozen=True)
class DictationOptions:
    model: str = "whisper-1"
    language: str | None = None
    prompt: str | None = None  # vocabulary / style hint
    stream: bool | None = None  # None: stream when the model can


@dataclass(frozen=True)
class StateChanged:
    state: str


@dataclass(frozen=True)
class LevelChanged:
    level: Level


@dataclass(frozen=True)
class PartialText:
    text: str  # everything transcribed so far


@dataclass(frozen=True)
class Finished:
    text: str
    recording_id: str


@dataclass(frozen=True)
class HeardNothing:
    message: str


@dataclass(frozen=True)
class Failed:
    message: str
    kind: str  # device | too_long | storage | error | the API error kind (auth, rate_limit, server, ...)
    recording_id: str | None = None  # set when the audio is kept: retry() can upload it
    retryable: bool = False


DictationEvent = StateChanged | LevelChanged | PartialText | Finished | HeardNothing | Failed
