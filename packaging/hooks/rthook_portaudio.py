"""PyInstaller runtime hook (Linux): which PortAudio library ``import sounddevice`` loads.

sounddevice asks ``ctypes.util.find_library("portaudio")``, i.e. the host's ldconfig cache. This hook:

1. uses the host's PortAudio when it is installed and loads (it matches the host's ALSA and JACK/PipeWire);
2. otherwise uses the copy shipped in ``<bundle>/portaudio/`` (Debian's libportaudio.so.2), first loading
   by path those of its dependencies (the JACK client library, Berkeley DB) that the host lacks;
3. otherwise returns what the host lookup returned (usually None), so ``import sounddevice`` raises
   ``OSError`` and the app reports that dictation is unavailable and what to install.

The bundled copy sits in a subfolder because the frozen app's LD_LIBRARY_PATH is the bundle root: a copy
there would shadow the host's library for every lookup by name.
"""

import ctypes
import ctypes.util
import os
import sys

_BUNDLE = getattr(sys, "_MEIPASS", None)
_DIR = os.path.join(_BUNDLE, "portaudio") if _BUNDLE else ""
# (bundled file, the name the host's linker cache knows it by) in load order: libjack needs libdb.
_DEPENDENCIES = (("libdb-5.3.so", "db-5.3"), ("libjack.so.0", "jack"))


def _loads(path):
    try:
        ctypes.CDLL(path)
    except OSError:
        return False
    return True


def _install():
    host_find_library = ctypes.util.find_library

    def find_library(name):
        found = host_find_library(name)
        if name != "portaudio":
            return found
        if found and _loads(found):
            return found
        bundled = os.path.join(_DIR, "libportaudio.so.2")
        if not os.path.isfile(bundled):
            return found
        for filename, host_name in _DEPENDENCIES:
            host_copy = host_find_library(host_name)
            if host_copy and _loads(host_copy):
                continue
            path = os.path.join(_DIR, filename)
            if os.path.isfile(path):
                _loads(path)  # once loaded, PortAudio's DT_NEEDED entry for this soname resolves to it
        return bundled

    ctypes.util.find_library = find_library


if _BUNDLE and sys.platform.startswith("linux"):
    _install()
