"""assistant-app: a native desktop assistant for OpenAI-compatible servers."""

# The single source of the version (pyproject reads it). A constant, not importlib.metadata:
# that lookup alone cost ~25 ms of every start-up.
__version__ = "0.1.0"
