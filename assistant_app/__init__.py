"""assistant-app: a native desktop assistant for OpenAI-compatible servers."""

from importlib import metadata

try:
    __version__ = metadata.version("assistant-app")
except metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.1.0"
