"""A private PulseAudio virtual microphone for benchmarks (the recipe of ENVIRONMENT.md §3).

virt_speaker (a null sink) -> virt_mic (a virtual source on its monitor). Used only when no
PulseAudio is configured already (PULSE_SERVER unset) and ``pulseaudio`` is installed; stopped by
PID. It must run before ``sounddevice`` is imported: PortAudio lists devices once, at import.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _answers(env: dict[str, str]) -> bool:
    return subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=10).returncode == 0


@contextlib.contextmanager
def virtual_microphone() -> Iterator[str | None]:
    """Yields a description of the audio server in use, or None when there is none."""
    if os.environ.get("PULSE_SERVER"):
        yield f"existing PulseAudio at {os.environ['PULSE_SERVER']}"
        return
    if not (shutil.which("pulseaudio") and shutil.which("pactl") and shutil.which("paplay")):
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="aa-bench-pa-"))
    run, home = root / "run", root / "home"
    run.mkdir(mode=0o700)
    home.mkdir()
    env = dict(os.environ, XDG_RUNTIME_DIR=str(run), HOME=str(home))
    subprocess.run(
        ["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--system=false", "--disallow-exit",
         f"--log-target=file:{root / 'pulse.log'}", "--load=module-native-protocol-unix",
         "--load=module-null-sink sink_name=virt_speaker sink_properties=device.description=VirtualSpeaker",
         "--load=module-virtual-source source_name=virt_mic master=virt_speaker.monitor"],
        env=env, check=True, timeout=30,
    )  # fmt: skip
    pid_file = run / "pulse" / "pid"
    saved = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_LATENCY_MSEC")}
    try:
        os.environ.update(XDG_RUNTIME_DIR=str(run), PULSE_SERVER=f"unix:{run}/pulse/native", PULSE_LATENCY_MSEC="30")
        deadline = time.monotonic() + 10
        while not _answers(dict(os.environ)) and time.monotonic() < deadline:
            time.sleep(0.05)  # a benchmark helper: the daemon starts in ~30 ms
        for args in (["set-default-sink", "virt_speaker"], ["set-default-source", "virt_mic"]):
            subprocess.run(["pactl", *args], check=True, timeout=10)
        yield f"private PulseAudio (pid {pid_file.read_text().strip()})"
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)
