"""`glassbox import FILE` / `glassbox export ID --format onnx|safetensors|json|npz`: network files in and out of a
running server (`glassbox serve`, or --url), through the same REST API as everyone else.

glassbox import FILE [--format F] [--activation relu|tanh|sigmoid] [--pooling max|avg] [--input-shape 1,28,28]
                     [--url URL]
glassbox export ID [--format json|npz|onnx|safetensors] [--out PATH] [--url URL]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import command
from .settings import get_settings

FORMATS = ("json", "npz", "onnx", "safetensors")


def _url_arg(p: argparse.ArgumentParser) -> None:
    settings = get_settings()
    default = f"http://{settings.host}:{settings.port}"
    p.add_argument("--url", default=default, help=f"the Glassbox server (default {default}, `glassbox serve`)")


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a network file: Glassbox .json/.npz, .safetensors or .onnx")
    p.add_argument("--format", choices=FORMATS, help="the file's format (default: from its first bytes)")
    p.add_argument("--activation", choices=("relu", "tanh", "sigmoid"),
                   help="safetensors state dicts: the activation between weighted layers (default relu)")
    p.add_argument("--pooling", choices=("max", "avg"), help="safetensors state dicts: pooling after a convolution")
    p.add_argument("--input-shape", help="safetensors state dicts: the input's shape, e.g. 1,28,28")
    _url_arg(p)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", help="a network session's id (or a LeNet training session's)")
    p.add_argument("--format", choices=FORMATS, default="json")
    p.add_argument("--out", type=Path, help="where to write it (default <id>.<format>)")
    _url_arg(p)


@command("import", _import_args)
def import_file(args: argparse.Namespace) -> int:
    import httpx

    from glassbox.client import Client, GlassboxError, Network

    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    try:
        with Client(args.url) as client:
            params = {"encoding": "json", "format": args.format, "activation": args.activation,
                      "pooling": args.pooling, "input_shape": args.input_shape}
            state = client.request("POST", "/api/networks/import", content=args.file.read_bytes(),
                                   content_type="application/octet-stream", params=params)
            net = Network(client, state)
            print(net.id)
            layers = " → ".join(layer["type"] for layer in state["layers"])
            print(f"{state['num_params']:,} parameters: {layers}", file=sys.stderr)
            print(f"open {client.page_url(net)} (the walk: {client.page_url(net, 'walk')})", file=sys.stderr)
    except GlassboxError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {args.url} ({exc}); start it with `glassbox serve` or give --url", file=sys.stderr)
        return 1
    return 0


@command("export", _export_args)
def export_file(args: argparse.Namespace) -> int:
    import httpx

    from glassbox.client import Client, GlassboxError

    out = args.out or Path(f"{args.id}.{args.format}")
    try:
        with Client(args.url) as client:
            response = client.request("GET", f"/api/networks/{args.id}/export", params={"format": args.format},
                                      raw=True)
    except GlassboxError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: cannot reach {args.url} ({exc}); start it with `glassbox serve` or give --url", file=sys.stderr)
        return 1
    out.write_bytes(response.content)
    print(f"wrote {out} ({len(response.content):,} bytes)")
    return 0
