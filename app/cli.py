"""The `glassbox` command: `glassbox serve [--host H] [--port P] [--workers N]`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from .settings import get_settings
from .storage import default_data_dir

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

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
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (default 1); more than one needs GLASSBOX_STORE=redis://…, which they "
                        "share")


@command("serve", _serve_args)
def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if args.workers < 1:
        print("glassbox serve: --workers must be 1 or more", file=sys.stderr)
        return 2
    if args.workers > 1 and not settings.store.startswith(("redis://", "rediss://", "unix://")):
        print(f"glassbox serve: {args.workers} workers need a store they share: set GLASSBOX_STORE=redis://host:6379/0 "
              f"(the store is '{settings.store}', which lives in one process)", file=sys.stderr)
        return 2
    if args.host not in LOOPBACK and not settings.token and not os.environ.get("GLASSBOX_TOKEN"):
        print(f"WARNING: listening on {args.host}, beyond this machine, without an access token: anyone who can "
              f"reach the port can use the server. Set GLASSBOX_TOKEN to a secret and open the pages with "
              f"?token=<secret> (API clients send 'Authorization: Bearer <secret>').", file=sys.stderr, flush=True)
    where = settings.store if settings.store != "sqlite" else f"SQLite in {settings.data_dir or default_data_dir()}"
    print(f"Glassbox on http://{args.host}:{args.port}  (API docs: /docs; sessions: {where}; "
          f"{args.workers} worker{'s' if args.workers > 1 else ''})", flush=True)
    # No permessage-deflate: live frames are raw arrays and small JSON, and compressing every frame cost the
    # server 0.5–2.8 ms a frame (measured) for data the page needs as it is.
    uvicorn.run("app.main:app", host=args.host, port=args.port, log_level="info", workers=args.workers,
                ws_per_message_deflate=False)
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
