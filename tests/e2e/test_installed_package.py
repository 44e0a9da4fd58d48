"""The Linux package as a user gets it: built, installed, started, removed.

The module builds the .deb and .tar.gz with packaging/build-linux.sh (or takes ``ASSISTANT_APP_DEB``, a
.deb that ``make dist`` built earlier in the same job), installs the .deb - for real with apt when running
as root with CI=true, otherwise into a throw-away dpkg root - and then runs the INSTALLED, frozen app:
``doctor`` finds the Secret Service keyring and the PulseAudio microphone; under Xvfb the window shows and
a typed prompt streams a reply from the loopback server; with the host's PortAudio hidden it uses the
bundled copy, and with no PortAudio at all it still starts and explains that dictation is unavailable.
Install, reinstall (the upgrade path), remove and purge never touch a user's data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant_app import __version__
from tests.e2e.harness import REPO, fake_server, have, main_window, query, wait_until, xdotool, xvfb

pytestmark = [
    pytest.mark.dist,
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the .deb is built and tested on Linux"),
]

APP = "assistant-app"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
REQUIRE_REAL = os.environ.get("ASSISTANT_APP_REQUIRE_REAL") == "1"
ARTIFACTS = Path(os.environ.get("ASSISTANT_APP_ARTIFACTS", REPO / "artifacts"))
API_KEY = "sk-dist-test-key-not-real-0000"


def _missing(reason: str) -> None:
    """Skip, or fail when the harness promised the real components (scripts/test.sh, CI)."""
    if REQUIRE_REAL:
        pytest.fail(reason)
    pytest.skip(reason)


def _run(cmd: list[str], *, timeout: float = 120, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


# ----- building -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Packages:
    deb: Path
    tgz: Path | None
    fields: dict[str, str]


def _deb_fields(deb: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in _run(["dpkg-deb", "-f", str(deb)]).stdout.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    if not have("dpkg-deb", "dpkg", "ldd"):
        _missing("dpkg-deb/dpkg/ldd not installed")
    prebuilt = os.environ.get("ASSISTANT_APP_DEB")
    if prebuilt:
        deb = Path(prebuilt).resolve()
        tgz = next(iter(sorted(deb.parent.glob(f"{APP}-*-linux-*.tar.gz"))), None)
        return Packages(deb, tgz, _deb_fields(deb))
    if not have("icupkg", "cc"):
        _missing("the package build needs icupkg (icu-devtools) and cc: scripts/setup-system.sh test installs them")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [str(REPO / "packaging" / "build-linux.sh"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    log = ARTIFACTS / "logs" / "build-linux.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        pytest.fail(f"packaging/build-linux.sh failed ({proc.returncode}); last lines:\n{proc.stderr[-3000:]}")
    deb = next(out.glob("*.deb"))
    tgz = next(out.glob("*.tar.gz"))
    return Packages(deb, tgz, _deb_fields(deb))


@pytest.fixture(scope="module")
def extracted(packages: Packages, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb-extracted")
    _run(["dpkg-deb", "-x", str(packages.deb), str(root)])
    _run(["dpkg-deb", "-e", str(packages.deb), str(root / "DEBIAN")])
    return root


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_deb_control_fields(packages: Packages) -> None:
    f = packages.fields
    assert f["Package"] == APP
    assert f["Version"] == __version__
    assert f["Architecture"] == _run(["dpkg", "--print-architecture"]).stdout.strip()
    assert int(f["Installed-Size"]) > 10_000
    depends = {d.strip().split(" ")[0] for d in f["Depends"].split(",")}
    # What Qt's xcb plugin, the GL integration and audio need from the system (the bundle does not carry them).
    for pkg in ("libc6", "libfontconfig1", "libgl1", "libegl1", "libxkbcommon0", "libxkbcommon-x11-0", "libx11-6",
                "libxcb1", "libdbus-1-3", "libglib2.0-0", "libasound2", "libstdc++6"):  # fmt: skip
        assert pkg in depends, f"Depends lacks {pkg}: {f['Depends']}"
    recommends = f["Recommends"]
    assert "gnome-keyring" in recommends and "pulseaudio | pipewire-pulse" in recommends
    assert "libportaudio2" in recommends


def test_deb_contents_stay_under_opt_and_usr(packages: Packages) -> None:
    listing = _run(["dpkg-deb", "-c", str(packages.deb)]).stdout.splitlines()
    assert listing, "empty package"
    allowed_dirs = {"./", "./opt/", "./usr/", "./usr/bin/", "./usr/share/", "./usr/share/doc/", "./usr/share/icons/",
                    "./usr/share/icons/hicolor/", "./usr/share/applications/"}  # fmt: skip
    allowed_prefixes = (f"./opt/{APP}/", f"./usr/share/doc/{APP}/", "./usr/share/icons/hicolor/")
    paths = {}
    for line in listing:
        perms, owner, _size, _date, _time, rest = line.split(None, 5)
        path = rest.split(" -> ")[0]
        paths[path] = (perms, rest)
        assert owner == "root/root", line
        if not perms.startswith("l"):  # a symlink's own mode is always 777 and means nothing
            assert not (perms[5] == "w" or perms[8] == "w"), f"group/world-writable: {line}"
        assert (
            path in allowed_dirs
            or path.startswith(allowed_prefixes)
            or path in (f"./usr/bin/{APP}", f"./usr/share/applications/{APP}.desktop")
        ), f"file outside /opt/{APP} and the usual /usr places: {path}"
    perms, rest = paths[f"./usr/bin/{APP}"]
    assert perms.startswith("l") and rest.endswith(f"-> /opt/{APP}/{APP}")
    assert paths[f"./opt/{APP}/{APP}"][0].startswith("-rwxr-xr-x")
    for size in ICON_SIZES:
        assert f"./usr/share/icons/hicolor/{size}x{size}/apps/{APP}.png" in paths
    assert f"./usr/share/icons/hicolor/scalable/apps/{APP}.svg" in paths


def test_deb_desktop_file_icons_and_scripts(extracted: Path) -> None:
    desktop = extracted / "usr" / "share" / "applications" / f"{APP}.desktop"
    if not have("desktop-file-validate"):
        _missing("desktop-file-validate not installed (apt install desktop-file-utils)")
    out = _run(["desktop-file-validate", str(desktop)], check=False)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    entries = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entries["Exec"].split()[0] == APP and (extracted / "usr" / "bin" / entries["Exec"].split()[0]).is_symlink()
    assert entries["Icon"] == APP
    for size in ICON_SIZES:
        assert _png_size(extracted / f"usr/share/icons/hicolor/{size}x{size}/apps/{APP}.png") == (size, size)
    assert b"<svg" in (extracted / f"usr/share/icons/hicolor/scalable/apps/{APP}.svg").read_bytes()[:400]
    assert (extracted / "usr" / "share" / "doc" / APP / "copyright").is_file()
    for script in ("postinst", "postrm"):
        path = extracted / "DEBIAN" / script
        assert os.access(path, os.X_OK), f"{script} is not executable"
        _run(["sh", "-n", str(path)])
    assert not (extracted / "DEBIAN" / "preinst").exists() and not (extracted / "DEBIAN" / "prerm").exists()


def test_bundle_links_only_what_depends_provides(packages: Packages, extracted: Path) -> None:
    """Every library the frozen app links is in the bundle or in a package the .deb depends on."""
    out = _run(
        [sys.executable, str(REPO / "packaging" / "linux" / "check_bundle.py"), str(extracted / "opt" / APP),
         "--depends", packages.fields["Depends"], "--json"],
        check=False, timeout=300,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert report["missing"] == {}, report["missing"]
    assert report["not_in_depends"] == [], report["not_in_depends"]
    assert out.returncode == 0
    bundled = {p.name for p in (extracted / "opt" / APP).rglob("*")}
    # Slimming held: no WebEngine/QML/Quick/Network, no Wayland or GTK, no Qt translations.
    for name in ("libQt6WebEngineCore.so.6", "libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6Network.so.6",
                 "libqwayland.so", "libqgtk3.so", "libgtk-3.so.0"):  # fmt: skip
        assert name not in bundled, f"{name} should not be bundled"
    assert not list((extracted / "opt" / APP).rglob("translations/*.qm"))
    for name in ("libqxcb.so", "libqsvgicon.so", "libqsvg.so", "libportaudio.so.2", "cacert.pem"):
        assert name in bundled, f"{name} missing from the bundle"


def test_tarball_holds_the_same_onedir(packages: Packages, extracted: Path) -> None:
    if packages.tgz is None:
        _missing("no .tar.gz next to ASSISTANT_APP_DEB")
    with tarfile.open(packages.tgz) as tar:
        members = {m.name: m for m in tar.getmembers()}
    in_deb = {str(p.relative_to(extracted / "opt")) for p in (extracted / "opt" / APP).rglob("*")}
    in_tar = {name for name in members if name != APP}
    assert in_tar == in_deb
    assert members[f"{APP}/{APP}"].mode & 0o111


# ----- installing -----------------------------------------------------------------------------------------


@dataclass
class Installed:
    mode: str  # "system" (apt, as root in CI) or "dpkg-root" (a throw-away root, any user)
    root: Path
    exe: Path
    user_home: Path  # a user's home with pre-existing app data; nothing may change in it
    snapshot: dict[str, tuple[bytes, int, int]]
    deb: Path

    @property
    def bundle(self) -> Path:
        return self.root / "opt" / APP

    def dpkg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(self.user_home), "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}
        if self.mode == "system":
            return _run(["dpkg", *args], env=env, check=check, timeout=300)
        # Maintainer scripts run without chroot, told where the root is by $DPKG_ROOT (postinst/postrm honour it).
        cmd = ["dpkg", f"--root={self.root}", "--force-depends", "--force-not-root", "--force-script-chrootless",
               "--log=/dev/null", *args]  # fmt: skip
        return _run(cmd, env=env, check=check, timeout=300)

    def status(self) -> str:
        admin = ["--admindir", str(self.root / "var/lib/dpkg")] if self.mode == "dpkg-root" else []
        out = _run(["dpkg-query", *admin, "-W", "-f", "${Status}", APP], check=False)
        return out.stdout.strip() if out.returncode == 0 else "not-installed"


def _snapshot(home: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(home)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(home.rglob("*"))
    }


def _make_user_data(home: Path) -> None:
    """What a user of an earlier version has: conversations, settings, logs (XDG locations)."""
    files = {
        f".local/share/{APP}/assistant.sqlite3": b"SQLite format 3\x00 user conversations",
        f".local/share/{APP}/attachments/ab/abcdef.png": b"\x89PNG user image",
        f".config/{APP}/settings.json": b'{"active_provider": "openai", "theme": "dark"}',
        f".local/state/{APP}/logs/{APP}.log": b"2026-01-01 started\n",
    }
    for rel, data in files.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _install_mode() -> str:
    forced = os.environ.get("ASSISTANT_APP_DEB_INSTALL")
    if forced in ("system", "dpkg-root"):
        return forced
    if os.geteuid() == 0 and os.environ.get("CI") == "true" and have("apt-get"):
        # Never replace an installation that was there before the test.
        pre = _run(["dpkg-query", "-W", "-f", "${Status}", APP], check=False)
        if "installed" not in pre.stdout:
            return "system"
    return "dpkg-root"


@pytest.fixture(scope="module")
def installed(packages: Packages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    mode = _install_mode()
    base = tmp_path_factory.mktemp("installed")
    home = base / "user-home"
    _make_user_data(home)
    root = Path("/") if mode == "system" else base / "root"
    if mode == "dpkg-root":
        for d in ("info", "updates", "triggers"):
            (root / "var/lib/dpkg" / d).mkdir(parents=True, exist_ok=True)
        (root / "var/lib/dpkg/status").touch()
    inst = Installed(mode, root, root / "opt" / APP / APP, home, _snapshot(home), packages.deb)
    try:
        if mode == "system":
            env = {**os.environ, "HOME": str(home), "DEBIAN_FRONTEND": "noninteractive"}
            _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120",
                  str(packages.deb)], env=env, timeout=600)  # fmt: skip
        else:
            inst.dpkg("-i", str(packages.deb))
        assert inst.status() == "install ok installed"
        assert inst.snapshot == _snapshot(home), "installing changed the user's data"
        inst.dpkg("-i", str(packages.deb))  # same version again: the upgrade path (prerm upgrade, postinst configure)
        assert inst.snapshot == _snapshot(home), "reinstalling (upgrade path) changed the user's data"
        yield inst
    finally:
        if "not-installed" not in inst.status():
            inst.dpkg("--purge", APP, check=False)


def test_installed_files(installed: Installed) -> None:
    assert installed.status() == "install ok installed"
    assert os.access(installed.exe, os.X_OK)
    link = installed.root / "usr" / "bin" / APP
    assert link.is_symlink() and os.readlink(link) == f"/opt/{APP}/{APP}"
    assert (installed.root / "usr/share/applications" / f"{APP}.desktop").is_file()
    version = _run([str(installed.exe), "--version"], env=_app_env(installed, None)).stdout.strip()
    assert version == f"{APP} {__version__}"


# ----- running the installed app --------------------------------------------------------------------------


def _app_env(inst: Installed, home: Path | None, **extra: str) -> dict[str, str]:
    """The environment of a user starting the installed app: no venv, no PYTHONPATH, no API settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "QT_", "ASSISTANT_APP_EXIT"))
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    if home is not None:
        env["ASSISTANT_APP_HOME"] = str(home)
    env.update(extra)
    return env


def _doctor(inst: Installed, exe: Path, env: dict[str, str], prefix: list[str] | None = None) -> dict:
    out = _run([*(prefix or []), str(exe), "doctor"], env=env, timeout=120)
    return json.loads(out.stdout)


def test_installed_app_finds_keyring_microphone_and_qt(installed: Installed, tmp_path: Path) -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        _missing("no D-Bus session with gnome-keyring (run through scripts/test.sh)")
    if not os.environ.get("PULSE_SERVER"):
        _missing("no PulseAudio virtual microphone (run through scripts/test.sh)")
    report = _doctor(installed, installed.exe, _app_env(installed, tmp_path / "app"))
    assert report["frozen"] is True
    assert Path(report["executable"]).resolve() == installed.exe.resolve()
    assert report["version"] == __version__
    keyring = report["keyring"]
    assert keyring["usable"] is True, keyring
    assert keyring["active_backend"] == "keyring.backends.SecretService.Keyring", keyring
    audio = report["audio"]
    assert audio["available"] is True, audio
    names = [d["name"] for d in audio["input_devices"]]
    assert "pulse" in names, f"the PulseAudio input is not listed: {names}"
    assert audio["portaudio_source"] == "system"  # the host's libportaudio2 wins when installed
    qt = report["qt"]
    assert "xcb" in {p.removeprefix("q") for p in qt["platform_plugins"]}
    assert qt["platform_plugin_load"]["qxcb"] == "ok", qt["platform_plugin_load"]
    assert qt["icu"] == {"collation": True, "case_mapping": True}  # trimmed ICU data still serves Qt
    assert "qsvgicon" in qt["icon_engines"]
    assert Path(qt["plugins_dir"]).resolve().is_relative_to(installed.bundle.resolve())
    assert report["tls"]["truststore"] is True and report["tls"]["certifi_present"] is True
    assert report["resources"] == {**report["resources"], "icon": True, "prices": True}
    assert set(report["modules"].values()) == {"ok"}, report["modules"]


def _needs_display() -> None:
    if not have("Xvfb", "xdotool"):
        _missing("Xvfb and xdotool are needed")


def test_installed_app_streams_a_reply_in_a_window(installed: Installed, tmp_path: Path) -> None:
    _needs_display()
    home = tmp_path / "app"
    db = home / "data" / "assistant.sqlite3"
    prompt = "Show me a tiny python example"
    with fake_server("--api-key", API_KEY) as base_url, xvfb() as display:
        env = _app_env(installed, home, OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=base_url, DISPLAY=display,
                       QT_QPA_PLATFORM="xcb")  # fmt: skip
        app = subprocess.Popen([str(installed.exe)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
        try:
            wid = main_window(display, app=app)
            xdotool("windowsize", wid, "1200", "780", display=display)
            xdotool("windowfocus", "--sync", wid, display=display)
            xdotool("type", "--delay", "5", prompt, display=display)
            xdotool("key", "Return", display=display)
            rows = wait_until(
                lambda: query(db, "SELECT content FROM messages WHERE role='assistant' AND status='complete'"),
                timeout=60, what="a complete assistant reply in the database",
            )  # fmt: skip
            assert "```" in rows[0][0], "the loopback server's default reply carries a code block"
            xdotool("key", "ctrl+q", display=display)
            app.wait(30)
        finally:
            if app.poll() is None:
                app.terminate()
                app.wait(10)
        output = app.stdout.read() if app.stdout else ""
    assert app.returncode == 0, output
    assert [r[0] for r in query(db, "SELECT content FROM messages WHERE role='user'")] == [prompt]


# ----- without PortAudio ------------------------------------------------------------------------------------


def _host_portaudio_files() -> list[str]:
    out = _run(["ldconfig", "-p"], check=False).stdout if have("ldconfig") else ""
    paths = {os.path.realpath(line.split("=>")[-1].strip()) for line in out.splitlines() if "libportaudio.so" in line}
    return sorted(p for p in paths if os.path.isfile(p))


def _hide_host_portaudio() -> list[str]:
    """A command prefix that runs its command in a private mount namespace where the host's PortAudio
    files read as empty (/dev/null bound over them): as on a system without libportaudio2, loading fails.
    The host itself is not changed."""
    files = _host_portaudio_files()
    if not files:
        return []  # nothing to hide: the host has no PortAudio
    if not have("unshare"):
        _missing("unshare (util-linux) is needed to hide the host's PortAudio")
    ns = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        ns[1:1] = ["--user", "--map-root-user"]
    script = 'for f in "$@"; do mount --bind /dev/null "$f" || exit 97; done; exit 0'
    probe = subprocess.run([*ns, "sh", "-c", script, "sh", *files], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        _missing(f"cannot create a private mount namespace here: {probe.stderr.strip()}")
    mounts = " ".join(f'"{f}"' for f in files)
    wrapper = f'for f in {mounts}; do mount --bind /dev/null "$f" || exit 97; done; exec "$@"'
    return [*ns, "sh", "-c", wrapper, "sh"]


def test_without_host_portaudio_the_bundled_copy_is_used(installed: Installed, tmp_path: Path) -> None:
    if not os.environ.get("PULSE_SERVER"):
        _missing("no PulseAudio virtual microphone (run through scripts/test.sh)")
    prefix = _hide_host_portaudio()
    report = _doctor(installed, installed.exe, _app_env(installed, tmp_path / "app"), prefix)
    audio = report["audio"]
    assert audio["available"] is True, audio
    assert audio["portaudio_source"] == "bundled", audio
    assert Path(audio["portaudio_library"]).resolve().is_relative_to(installed.bundle.resolve())
    assert "pulse" in [d["name"] for d in audio["input_devices"]]


def test_without_any_portaudio_the_app_starts_and_explains(installed: Installed, tmp_path: Path) -> None:
    """A copy of the installed bundle without its PortAudio, on a system without libportaudio2."""
    _needs_display()
    copy = tmp_path / APP
    shutil.copytree(installed.bundle, copy, symlinks=True)
    (copy / "_internal" / "portaudio" / "libportaudio.so.2").unlink()
    prefix = _hide_host_portaudio()
    exe = copy / APP

    report = _doctor(installed, exe, _app_env(installed, tmp_path / "app"), prefix)
    audio = report["audio"]
    assert audio["available"] is False and audio["input_devices"] == []
    assert "PortAudio" in audio["reason"] and "libportaudio2" in audio["reason"], audio["reason"]
    assert report["qt"]["platform_plugin_load"]["qxcb"] == "ok"  # the rest of the app is intact

    with xvfb() as display:
        env = _app_env(installed, tmp_path / "app", DISPLAY=display, QT_QPA_PLATFORM="xcb",
                       ASSISTANT_APP_EXIT_AFTER_SHOWN="1", OPENAI_API_KEY=API_KEY,
                       OPENAI_BASE_URL="http://127.0.0.1:9/v1")  # fmt: skip
        started = _run([*prefix, str(exe)], env=env, timeout=120, check=False)
    assert started.returncode == 0, started.stdout + started.stderr
    assert any(line.startswith("SHOWN ") for line in started.stdout.splitlines()), started.stdout


# ----- removing -------------------------------------------------------------------------------------------


def test_remove_and_purge_keep_user_data(installed: Installed) -> None:
    package_files = [installed.exe, installed.root / "usr/bin" / APP, installed.root / "usr/share/applications" /
                     f"{APP}.desktop", installed.root / f"usr/share/icons/hicolor/48x48/apps/{APP}.png"]  # fmt: skip
    assert all(os.path.lexists(p) for p in package_files)
    installed.dpkg("--remove", APP)
    assert installed.status() in ("deinstall ok config-files", "not-installed")
    assert not [p for p in package_files if os.path.lexists(p)], "files left after remove"
    assert not installed.bundle.exists(), f"{installed.bundle} left after remove"
    assert installed.snapshot == _snapshot(installed.user_home), "removing changed the user's data"
    installed.dpkg("--purge", APP)
    assert "not-installed" in installed.status()
    assert installed.snapshot == _snapshot(installed.user_home), "purging changed the user's data"
    if installed.mode == "dpkg-root":
        leftovers = [
            str(p.relative_to(installed.root))
            for p in installed.root.rglob("*")
            if p.is_file() and not str(p.relative_to(installed.root)).startswith("var/lib/dpkg")
            and p.name != "mimeinfo.cache"  # update-desktop-database's shared cache, as on a real system
        ]  # fmt: skip
        assert leftovers == [], leftovers
