"""Command line: ``assistant-app`` opens the window; subcommands use the same engine in a terminal."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from assistant_app import __version__

if TYPE_CHECKING:
    import argparse

# Feature modules that add subcommands: each has ``register(subparsers)`` which adds its parsers
# and sets ``handler=<callable(args) -> int>`` as a default. They must be cheap to import.
COMMAND_MODULES: list[str] = [
    "assistant_app.commands.usage",
    "assistant_app.commands.images",
    "assistant_app.commands.audio",
    "assistant_app.commands.doctor",
]


def _parser() -> argparse.ArgumentParser:
    import argparse  # not at the top: opening the window parses no arguments

    p = argparse.ArgumentParser(prog="assistant-app", description="A desktop assistant for OpenAI-compatible servers.")
    p.add_argument("--version", action="version", version=f"assistant-app {__version__}")
    sub = p.add_subparsers(dest="command")

    chat = sub.add_parser("chat", help="send a prompt and stream the reply to stdout")
    chat.add_argument("prompt")
    chat.add_argument("--model", "-m")
    chat.add_argument("--system", "-s", help="system prompt")
    chat.add_argument("--conversation", "-c", type=int, help="continue this conversation id")
    chat.add_argument("--provider", help="provider id from settings (default: the active one)")
    chat.add_argument("--image", "-i", action="append", metavar="FILE", help="attach an image (repeatable)")

    export = sub.add_parser("export", help="print conversations as Markdown or JSON")
    export.add_argument("--format", "-f", choices=["markdown", "json"], default="markdown")
    export.add_argument("--conversation", "-c", type=int, action="append", help="only this id (repeatable)")

    sub.add_parser("gui", help="open the window (the default)")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


async def _chat(args: argparse.Namespace) -> int:
    from assistant_app.core.chat import ReplyDelta, ReplyFailed, ReplyFinished
    from assistant_app.core.context import AppContext

    ctx = AppContext.create()
    try:
        attachments = None
        if args.image:  # every image is checked before anything is stored or sent
            from assistant_app.commands.images import attach_images
            from assistant_app.media.images import ImageError

            try:
                attachments = attach_images(args.image, ctx.paths.attachments)
            except ImageError as exc:
                print(f"assistant-app: {exc}", file=sys.stderr)
                return 2
        if args.provider:
            ctx.settings.active_provider = args.provider
        options = ctx.default_options()
        if args.conversation is not None:
            try:
                conv = ctx.store.get_conversation(args.conversation)
            except LookupError:
                print(f"assistant-app: no conversation {args.conversation}", file=sys.stderr)
                return 2
            options = ctx.chat_service().options_for(conv.id, options)
            parent = conv.head_id
        else:
            conv = ctx.store.create_conversation()
            parent = None
        if args.model:
            options.model = args.model
        if args.system is not None:
            options.system_prompt = args.system
        if args.model or args.system is not None or args.conversation is None:
            ctx.store.update_conversation(conv.id, model=options.model, system_prompt=options.system_prompt)
        if attachments:
            from assistant_app.core.capabilities import model_can_see_images

            if model_can_see_images(ctx.settings, options.model) is False:
                print(f"assistant-app: warning: {options.model} may not accept images.", file=sys.stderr)
        service = ctx.chat_service()
        user = service.add_user_message(conv.id, args.prompt, parent_id=parent, attachments=attachments)

        def on_retry(_mid: int, notice) -> None:
            print(
                f"assistant-app: {notice.error.user_message} Retrying in {notice.delay:.1f} s "
                f"(attempt {notice.attempt} of {notice.max_attempts}).",
                file=sys.stderr,
            )

        rc = 1
        async for ev in service.generate(conv.id, user.id, options, on_retry=on_retry):
            if isinstance(ev, ReplyDelta):
                sys.stdout.write(ev.text)
                sys.stdout.flush()
            elif isinstance(ev, ReplyFinished):
                sys.stdout.write("\n")
                rc = 0
            elif isinstance(ev, ReplyFailed):
                if ev.message.content:
                    sys.stdout.write("\n")
                print(f"assistant-app: {ev.error}", file=sys.stderr)
                rc = 1
        sys.stdout.flush()
        print(f"conversation {conv.id}", file=sys.stderr)
        return rc
    finally:
        await ctx.aclose()
        ctx.close()


def _export(args: argparse.Namespace) -> int:
    from assistant_app.core.context import AppContext
    from assistant_app.core.export import export_json, export_markdown

    ctx = AppContext.create()
    try:
        ids = args.conversation
        if ids:
            for i in ids:
                try:
                    ctx.store.get_conversation(i)
                except LookupError:
                    print(f"assistant-app: no conversation {i}", file=sys.stderr)
                    return 2
        text = export_json(ctx.store, ids) if args.format == "json" else export_markdown(ctx.store, ids)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    finally:
        ctx.close()


def _gui() -> int:
    from assistant_app.app import run_gui

    return run_gui()


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if not words or words == ["gui"]:
        # Opening the window needs no argument parsing: skip importing every subcommand's module.
        return _gui()
    args = _parser().parse_args(argv)
    from assistant_app.core.schema import StoreError

    try:
        if args.command == "chat":
            import asyncio  # not at the top: the window opens before asyncio loads (app.py)

            return asyncio.run(_chat(args))
        if args.command == "export":
            return _export(args)
        if getattr(args, "handler", None) is not None:
            return int(args.handler(args))
        return _gui()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except StoreError as exc:  # a damaged or too new database: say which and where, no traceback
        print(f"assistant-app: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
