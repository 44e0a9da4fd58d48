"""`python -m assistant_app` behaves like the `assistant-app` command."""

import sys

from assistant_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
