"""``assistant-app doctor``: what this installation can use, as JSON (version, keyring, audio, Qt, TLS).

Meant for support requests and for smoke tests of the installed, frozen app: it reports, it never
fixes. It reads nothing from the user's data and writes nothing (the keyring probe asks for an entry
that does not exist). The exit status is 0 whenever the report was produced; a component that is
missing shows up as ``usable``/``available`` false with the reason a person can act on.

``--output FILE`` writes the report to a file, for the windowed Windows build that has no console.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("doctor", help="report what this installation can use (keyring, microphone, Qt) as JSON")
    p.add_argument("--output", "-o", type=Path, help="write the JSON to this file instead of stdout")
    p.add_argument(
        "--no-keyring-probe", action="store_true", help="do not ask the keyring (it may show an unlock prompt)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    text = json.dumps(collect(probe_keyring=not args.no_keyring_probe), indent=2, sort_keys=True) + "\n"
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    elif sys.stdout is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def collect(*, probe_keyring: bool = True) -> dict[str, Any]:
    from assistant_app import __version__

    return {
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "bundle_dir": getattr(sys, "_MEIPASS", None),
        "python": platform.python_version(),
        "platform": sys.platform,
        "keyring": _keyring(probe_keyring),
        "audio": _audio(),
        "qt": _qt(),
        "tls": _tls(),
        "resources": _resources(),
        "modules": _modules(),
    }


def _guard(section: dict[str, Any], fn) -> dict[str, Any]:
    """A failing check is reported in its section; it never aborts the whole report."""
    try:
        section.update(fn())
    except Exception as exc:
        section["error"] = f"{type(exc).__name__}: {exc}"
    return section


def _keyring(probe: bool) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        from assistant_app.core.secrets import SecretStore

        store = SecretStore()
        usable, reason = store.status(probe=probe)
        active = store.active_backend()
        chosen = type(store.backend)
        return {
            "backend": f"{chosen.__module__}.{chosen.__qualname__}",
            "active_backend": None if active is None else f"{type(active).__module__}.{type(active).__qualname__}",
            "usable": usable,
            "reason": reason,
        }

    return _guard({"usable": False}, check)


def _loaded_library(fragment: str) -> str | None:
    """The file of a shared library mapped into this process whose name contains ``fragment`` (Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if fragment in os.path.basename(path):
                    return path
    except OSError:
        return None
    return None


def _audio() -> dict[str, Any]:
    def check() -> dict[str, Any]:
        from assistant_app.media.audio_devices import AudioDevices, AudioError

        devices = AudioDevices()
        try:
            sd = devices.sd
        except AudioError as exc:
            return {"available": False, "reason": str(exc), "input_devices": []}
        info: dict[str, Any] = {"portaudio": sd.get_portaudio_version()[1]}
        library = _loaded_library("libportaudio") if sys.platform.startswith("linux") else None
        info["portaudio_library"] = library or getattr(sd, "_libname", None)
        bundle = getattr(sys, "_MEIPASS", None)
        if library and bundle:
            info["portaudio_source"] = "bundled" if Path(library).resolve().is_relative_to(bundle) else "system"
        try:
            inputs = devices.list_inputs()
        except AudioError as exc:
            return {**info, "available": False, "reason": str(exc), "input_devices": []}
        info["input_devices"] = [
            {
                "name": d.name,
                "hostapi": d.hostapi,
                "default_samplerate": d.default_samplerate,
                "channels": d.max_input_channels,
                "default": d.is_default,
            }
            for d in inputs
        ]
        reason = devices.unavailable_reason() if not inputs else None
        return {**info, "available": bool(inputs), "reason": reason}

    return _guard({"available": False}, check)


def _qt() -> dict[str, Any]:
    def check() -> dict[str, Any]:
        os.environ.setdefault("QT_API", "pyside6")
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import QLibraryInfo, qVersion

        plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
        platforms = sorted(_plugin_name(p) for p in (plugins / "platforms").glob("*") if p.is_file())
        return {
            "qt": qVersion(),
            "pyside6": pyside_version,
            "plugins_dir": str(plugins),
            "platform_plugins": platforms,
            "image_formats": sorted(_plugin_name(p) for p in (plugins / "imageformats").glob("*") if p.is_file()),
            "icon_engines": sorted(_plugin_name(p) for p in (plugins / "iconengines").glob("*") if p.is_file()),
            "platform_plugin_load": _try_load_platform_plugins(plugins / "platforms"),
            "icu": _icu_checks(),
            "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM"),
        }

    return _guard({}, check)


def _icu_checks() -> dict[str, bool]:
    """Locale services Qt takes from ICU still work (the Linux package ships trimmed ICU data):
    Swedish collation sorts "ä" after "z" (root order puts it next to "a"); Turkish upper-cases "i" to "İ"."""
    from PySide6.QtCore import QCollator, QLocale

    return {
        "collation": QCollator(QLocale("sv_SE")).compare("ä", "z") > 0,
        "case_mapping": QLocale("tr_TR").toUpper("i") == "\u0130",
    }


def _plugin_name(path: Path) -> str:
    name = path.name.split(".")[0]
    return name[3:] if name.startswith("lib") else name


def _try_load_platform_plugins(folder: Path) -> dict[str, str]:
    """Linux: whether the system libraries each window-system plugin links are present ("ok" or the loader's
    message, e.g. the well-known missing libxcb-cursor0). Loading a plugin library does not start it."""
    if not sys.platform.startswith("linux"):
        return {}
    import ctypes

    result: dict[str, str] = {}
    for name in ("libqxcb.so", "libqwayland.so", "libqoffscreen.so"):
        path = folder / name
        if not path.exists():
            continue
        try:
            ctypes.CDLL(str(path))
        except OSError as exc:
            result[_plugin_name(path)] = str(exc)
        else:
            result[_plugin_name(path)] = "ok"
    return result


def _tls() -> dict[str, Any]:
    def check() -> dict[str, Any]:
        import ssl

        info: dict[str, Any] = {"openssl": ssl.OPENSSL_VERSION}
        try:
            import certifi

            info["certifi_bundle"] = certifi.where()
            info["certifi_present"] = Path(certifi.where()).is_file()
        except ImportError:
            info["certifi_present"] = False
        try:
            import truststore

            truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            info["truststore"] = True
        except Exception as exc:  # missing, or unsupported on this platform
            info["truststore"] = False
            info["truststore_reason"] = f"{type(exc).__name__}: {exc}"
        return info

    return _guard({}, check)


# Libraries the app loads later (some only when a feature is used): a broken bundle shows here, not mid-session.
_MODULES = ("PySide6.QtWidgets", "qasync", "httpx", "numpy", "numpy.fft", "numpy.linalg", "PIL.Image", "soundfile",
            "markdown_it", "pygments.lexers", "keyring", "truststore", "certifi")  # fmt: skip
# Pillow loads its codecs lazily (the WebP module only when a WebP image arrives): ask for each one.
_IMAGE_CODECS = ("jpg", "zlib", "webp", "libtiff", "littlecms2")
# keyring silently skips a backend whose module fails to import; name it so a broken bundle is visible.
if sys.platform.startswith("linux"):
    _MODULES += ("secretstorage", "jeepney")


def _modules() -> dict[str, str]:
    """``"ok"`` or the import error for each library the app needs."""
    import importlib

    result = {}
    for name in _MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # OSError from a shared library, ImportError ...
            result[name] = f"{type(exc).__name__}: {exc}"
        else:
            result[name] = "ok"
    try:
        from PIL import features

        for codec in _IMAGE_CODECS:
            result[f"PIL:{codec}"] = "ok" if features.check(codec) else "not available"
    except Exception as exc:
        result["PIL:codecs"] = f"{type(exc).__name__}: {exc}"
    return result


def _resources() -> dict[str, Any]:
    def check() -> dict[str, Any]:
        from assistant_app.resources import resource, resources_dir

        return {
            "dir": str(resources_dir()),
            "icon": resource("icons", "assistant-app.svg").is_file(),
            "prices": resource("prices.json").is_file(),
        }

    return _guard({}, check)
