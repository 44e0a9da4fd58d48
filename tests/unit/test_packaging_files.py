"""Static checks of the packaging files that cannot run here (Windows, macOS, the hosted CI workflow),
and of the small tools the Linux build uses (ELF reader, Depends parser, icon check)."""

from __future__ import annotations

import configparser
import importlib.util
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _linter() -> list[str] | None:
    exe = shutil.which("check-jsonschema") or (Path(sys.executable).parent / "check-jsonschema")
    return [str(exe)] if exe and Path(exe).exists() else None


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    cmd = _linter()
    if cmd is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    schema = ["--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*cmd, *schema, str(path)], capture_output=True, text=True, timeout=120)


def test_release_workflow_matches_the_github_schema() -> None:
    out = _schema_check(WORKFLOW)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "release.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:", 1))
    assert _schema_check(broken).returncode != 0


def test_release_workflow_runs_actionlint_when_available() -> None:
    """actionlint is stricter (expressions, shell); used when installed (it is not installable offline here)."""
    exe = shutil.which("actionlint")
    if exe is None:
        pytest.skip("actionlint not installed")
    out = subprocess.run([exe, str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_release_workflow_builds_and_uploads_on_three_systems() -> None:
    text = WORKFLOW.read_text()
    for target, runner in (("linux", "ubuntu-"), ("windows", "windows-"), ("macos", "macos-")):
        assert re.search(rf"target: {target}\n\s+os: {runner}", text), target
    assert "actions/upload-artifact@" in text and "if-no-files-found: error" in text
    assert "make dist" in text and "build-windows.ps1" in text
    # Secrets only reach the macOS signing steps.
    for line in text.splitlines():
        if "secrets." in line:
            assert line.strip().startswith(("MACOS_", "MACOS_CERTIFICATE")), line


def test_inno_setup_script_is_per_user_with_a_fixed_app_id() -> None:
    text = (REPO / "packaging" / "windows" / "assistant-app.iss").read_text()
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if re.fullmatch(r"\[\w+\]", line.strip()):
            current = line.strip()[1:-1]
        elif line.strip() and not line.lstrip().startswith(";") and current:
            sections.setdefault(current, []).append(line)
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert re.fullmatch(r"\{\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"].startswith("{localappdata}\\Programs\\")
    assert "{autoprograms}" in text  # Start menu entry
    # Nothing outside {app} is ever deleted: the user's %APPDATA%\assistant-app survives uninstall and upgrade.
    for section in ("InstallDelete", "UninstallDelete"):
        for line in sections.get(section, []):
            assert 'Name: "{app}' in line, line
    assert "{userappdata}" not in text and "{localappdata}\\assistant-app" not in text
    assert (REPO / "resources" / "icons" / "assistant-app.ico").is_file()


def test_macos_plists() -> None:
    info = plistlib.loads((REPO / "packaging" / "macos" / "Info.plist").read_bytes())
    assert len(info["NSMicrophoneUsageDescription"]) > 20
    assert info["CFBundleIdentifier"].count(".") >= 2
    ent = plistlib.loads((REPO / "packaging" / "macos" / "entitlements.plist").read_bytes())
    assert ent["com.apple.security.device.audio-input"] is True
    assert ent["com.apple.security.cs.allow-unsigned-executable-memory"] is True
    assert "com.apple.security.app-sandbox" not in ent  # not sandboxed: keyring, any server, user-chosen files
    script = (REPO / "packaging" / "macos" / "build-macos.sh").read_text()
    assert "--options runtime" in script and "notarytool submit" in script and "hdiutil create" in script
    assert 'if [ -n "${MACOS_SIGN_IDENTITY:-}" ]' in script  # signing only with credentials
    subprocess.run(["bash", "-n", str(REPO / "packaging" / "macos" / "build-macos.sh")], check=True)
    subprocess.run(["bash", "-n", str(REPO / "packaging" / "build-linux.sh")], check=True)


def test_desktop_file() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "resources" / "assistant-app.desktop")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Exec"].split()[0] == "assistant-app"
    assert entry["Icon"] == "assistant-app" and entry["Terminal"] == "false"
    if shutil.which("desktop-file-validate"):
        out = subprocess.run(
            ["desktop-file-validate", str(REPO / "resources" / "assistant-app.desktop")], capture_output=True, text=True
        )
        assert out.returncode == 0 and not out.stdout.strip(), out.stdout


def test_committed_icons_have_their_sizes() -> None:
    icons = _load(REPO / "packaging" / "make_icons.py")
    assert icons.stale() == []
    assert icons.png_size(REPO / "resources" / "icons" / "hicolor" / "48x48" / "apps" / "assistant-app.png") == (48, 48)


def test_icon_check_notices_a_wrong_size(tmp_path: Path) -> None:
    icons = _load(REPO / "packaging" / "make_icons.py")
    wrong = tmp_path / "x.png"
    wrong.write_bytes((REPO / "resources/icons/hicolor/16x16/apps/assistant-app.png").read_bytes())
    assert icons.png_size(wrong) == (16, 16) != (32, 32)
    wrong.write_bytes(b"not a png at all, just text.....")
    assert icons.png_size(wrong) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF")
def test_elf_reader_matches_the_dynamic_loader() -> None:
    check = _load(REPO / "packaging" / "linux" / "check_bundle.py")
    target = Path(sys.executable).resolve()
    needed = check.needed(target)
    out = subprocess.run(["ldd", str(target)], capture_output=True, text=True).stdout
    assert needed, "the interpreter links at least libc"
    for soname in needed:
        assert soname in out, f"{soname} is not in ldd's output:\n{out}"


def test_depends_parser() -> None:
    check = _load(REPO / "packaging" / "linux" / "check_bundle.py")
    names = check.depends_names("libc6 (>= 2.36), libgl1, gnome-keyring | kwalletmanager, libfoo:any (>= 1)")
    assert names == {"libc6", "libgl1", "gnome-keyring", "kwalletmanager", "libfoo"}


def test_icu_trim_keeps_what_qt_needs() -> None:
    trim = _load(REPO / "packaging" / "linux" / "trim_icu.py")
    for kept in ("coll/sv.res", "coll/root.res", "root.res", "en.res", "zone/de.res", "zoneinfo64.res", "pool.res",
                 "likelySubtags.res", "cnvalias.icu", "unames.icu", "uts46.nrm", "plurals.res"):  # fmt: skip
        assert not trim.should_drop(kept), kept
    for dropped in ("brkitr/cjdict.dict", "translit/root.res", "lang/de.res", "curr/fr.res", "unit/ja.res",
                    "ibm-943_P15A-2003.cnv", "de.res", "zh_Hant_TW.res", "rbnf/en.res", "region/it.res"):  # fmt: skip
        assert trim.should_drop(dropped), dropped


def test_spec_slims_qt_and_collects_what_the_app_needs() -> None:
    spec = (REPO / "packaging" / "assistant-app.spec").read_text()
    compile(spec, "assistant-app.spec", "exec")
    for excluded in ("PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtWebEngineCore", "tkinter"):
        assert f'"{excluded}"' in spec
    for collected in ("copy_metadata(APP)", 'copy_metadata("keyring")', 'collect_submodules("keyring.backends")',
                      '"secretstorage"', '"truststore"', '"certifi"', "rthook_portaudio", '"resources"'):  # fmt: skip
        assert collected in spec, collected
    assert '"PySide6.QtSvg"' not in spec  # the SVG icon needs QtSvg's plugins
