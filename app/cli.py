"""The `glassbox` command: `glassbox serve [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .settings import get_settings

# Sub-commands register here: name → (add_arguments, run).
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    def deco(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = (add_arguments, run)
        return run

    return deco


def _serve_args(p: argparse.ArgumentParser) -> None:
    settings = get_settings()
    p.add_argument("--host", default=settings.host, help=f"interface to listen on (default {settings.host})")
    p.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port})")


@command("serve", _serve_args)
def serve(args: argparse.Namespace) -> int:
    import uvicorn

    print(f"Glassbox on http://{args.host}:{args.port}  (API docs: /docs)", flush=True)
    uvicorn.run("app.main:app", host=args.host, port=args.port, log_level="info")
    return 0


def _load_plugins() -> None:
    # Feature modules that add sub-commands (e.g. `glassbox train lenet`) register on import.
    import importlib

    for module in ("app.train_cli", "app.io_cli"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    parser = argparse.ArgumentParser(prog="glassbox", description="Glassbox neural-network visualizer")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name)
        add_arguments(p)
        p.set_defaults(run=run)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
