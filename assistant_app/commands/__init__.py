"""CLI subcommands added through ``cli.COMMAND_MODULES``: each module has ``register(subparsers)``."""
