"""``assistant-app doctor`` from source: the report's shape, its file output, and the reasons it gives.

The installed, frozen app's report is checked in tests/e2e/test_installed_package.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant_app import __version__

REPO = Path(__file__).resolve().parents[2]


def _doctor(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTHON_KEYRING"))}
    full_env.update(QT_QPA_PLATFORM="offscreen", ASSISTANT_APP_HOME=str(tmp_path / "home"), **env)
    return subprocess.run(
        [sys.executable, "-m", "assistant_app", "doctor", *args],
        env=full_env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_report_from_source_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = _doctor(tmp_path, "--no-keyring-probe", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # the report went to the file
    report = json.loads(out.read_text())
    assert report["version"] == __version__
    assert report["frozen"] is False and report["bundle_dir"] is None
    assert set(report) >= {"keyring", "audio", "qt", "tls", "resources", "modules"}
    assert report["qt"]["icu"] == {"collation": True, "case_mapping": True}
    assert "offscreen" in {p.removeprefix("q") for p in report["qt"]["platform_plugins"]}
    assert report["resources"]["icon"] is True and report["resources"]["prices"] is True
    assert set(report["modules"].values()) == {"ok"}, report["modules"]
    assert isinstance(report["audio"]["available"], bool)
    assert report["audio"]["available"] or report["audio"]["reason"]
    assert not (tmp_path / "home").exists(), "doctor must not create the app's data folders"


def test_a_missing_keyring_is_explained(tmp_path: Path) -> None:
    proc = _doctor(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert proc.returncode == 0, proc.stderr
    keyring = json.loads(proc.stdout)["keyring"]
    assert keyring["usable"] is False
    assert keyring["backend"] == "keyring.backends.fail.Keyring" and keyring["active_backend"] is None
    assert "Secret Service" in keyring["reason"] and "session only" in keyring["reason"]
