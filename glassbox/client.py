"""A Python client for the Glassbox REST API: NumPy arrays in and out, 4xx as exceptions with the API's message.

    from glassbox import Client
    gb = Client.local()                       # a server of its own in a background thread (or Client(url))
    net = gb.networks.create(preset="worked-example")
    net.forward([[2, 3]]).output              # a NumPy array
    net.walk(granularity="neuron").current    # the walk's typed stage record, as a Record

Every response is a `Record` (a dict whose keys read as attributes too) in which each array the API sent as
base64 (`?encoding=base64`) is a NumPy array. Sessions come back as handles (`Network`, `LeNetSession`,
`Transformer`, `Autoencoder`) whose methods are the routes of that session; `client.show(handle)` (or
`glassbox.show(handle)`) displays its page inside a notebook cell.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np

from app.arrays import decode_array

ArrayLike = Any  # a NumPy array or nested lists of numbers
Format = Literal["json", "npz", "onnx", "safetensors"]


class GlassboxError(Exception):
    """The API answered 4xx/5xx. `status` is the HTTP status, `detail` the API's message (what to fix)."""

    def __init__(self, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body


class Record(dict):
    """A response object: a dict whose keys also read as attributes (`result.output`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def decode(obj: Any) -> Any:
    """Every {dtype, shape, data} object in a response as a NumPy array, every object as a Record."""
    if isinstance(obj, dict):
        if set(obj) == {"dtype", "shape", "data"} and isinstance(obj["data"], str):
            return decode_array(obj).copy()  # frombuffer is read-only; a copy is the caller's to change
        return Record({k: decode(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    return obj


def jsonable(obj: Any) -> Any:
    """NumPy arrays and scalars (at any depth) as JSON lists and numbers; handles as their ids."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Session):
        return obj.id
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _session_id(session: Session | str | None) -> str | None:
    return session.id if isinstance(session, Session) else session


class LocalServer:
    """uvicorn serving the app in a daemon thread, on a free port of 127.0.0.1."""

    def __init__(self, **settings: Any) -> None:
        import uvicorn

        from app.main import create_app
        from app.settings import Settings

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(Settings(**settings))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"glassbox-server-{self.port}")
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local Glassbox server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class Client:
    """The API at `url`, or (with no url) a server started in this process on a free port.

    Route families: `networks`, `playground`, `conv`, `neuron`, `lenet`, `transformers`, `autoencoders`, `rl`,
    `charlm`, `lessons`.
    """

    def __init__(self, url: str | None = None, *, timeout: float = 120.0, **settings: Any) -> None:
        self.server: LocalServer | None = None
        if url is None:
            self.server = LocalServer(**settings)
            url = self.server.url
        elif settings:
            raise TypeError("server settings only apply to a local server: Client(**settings) without a url")
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout)
        self.networks = Networks(self)
        self.playground = Playground(self)
        self.conv = Convolution(self)
        self.neuron = Neuron(self)
        self.lenet = LeNet(self)
        self.transformers = Transformers(self)
        self.autoencoders = Autoencoders(self)
        self.rl = RL(self)
        self.charlm = CharLM(self)
        self.lessons = Lessons(self)

    @classmethod
    def local(cls, **settings: Any) -> Client:
        """A client on a new server in a background thread; `settings` are Settings fields (e.g. max_sessions)."""
        return cls(None, **settings)

    def close(self) -> None:
        self.http.close()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}{', local' if self.server else ''})"

    # --- transport ------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, content_type: str | None = None, raw: bool = False) -> Any:
        """One API call: the decoded JSON (arrays as NumPy), or the raw response with `raw`. 4xx/5xx raise
        GlassboxError with the API's `detail`."""
        headers = {"content-type": content_type} if content_type else None
        response = self.http.request(method, path, json=None if json is None else jsonable(json),
                                     params=_drop_none(params or {}), content=content, headers=headers)
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("detail") if isinstance(body, dict) else None
            except ValueError:
                body, detail = response.text, None
            raise GlassboxError(response.status_code, str(detail or response.reason_phrase), body)
        if raw:
            return response
        if response.status_code == 204 or not response.content:
            return None
        return decode(response.json())

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=body if body is not None else {}, params=params)

    def health(self) -> Record:
        return self.get("/api/health")

    # --- views --------------------------------------------------------------------------------------------

    def page_url(self, session: Session, page: str | None = None) -> str:
        """The page that shows `session` (attached to it, not a copy)."""
        return f"{self.url}{session.page_path(page)}"

    def show(self, session: Session, page: str | None = None, *, height: int = 720) -> Any:
        """Display `session`'s page in a notebook cell (anywidget when installed, else an IFrame)."""
        from glassbox.notebook import show

        return show(session, page, height=height)


class Family:
    def __init__(self, client: Client) -> None:
        self.client = client


class Session:
    """A server-side session: its id, its client, and the page that shows it."""

    page = "/"
    query = "session"

    def __init__(self, client: Client, state: Record) -> None:
        self.client = client
        self.id: str = state["id"]
        self.last = state

    def page_path(self, page: str | None = None) -> str:
        return f"{page or self.page}?{self.query}={self.id}"

    def show(self, page: str | None = None, *, height: int = 720) -> Any:
        return self.client.show(self, page, height=height)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"

    def _repr_html_(self) -> str:
        url = self.client.page_url(self)
        return f'<a href="{url}" target="_blank">{type(self).__name__} {self.id}</a>'


# --- networks, the walk, the Playground ---------------------------------------------------------------------


class Network(Session):
    """A network session (dense or convolutional): forward, backward, step, train, walk, edit, export."""

    page = "/playground"

    @property
    def path(self) -> str:
        return f"/api/networks/{self.id}"

    def page_path(self, page: str | None = None) -> str:
        if page in ("walk", "backprop"):
            return f"/backprop?network={self.id}"
        if page == "lenet" or (page is None and self.is_digit_model()):
            return f"/lenet?session={self.id}"
        return f"{page or '/playground'}?session={self.id}"

    def is_digit_model(self) -> bool:
        """A 1×28×28 → 10 network: the LeNet page reads digits with it."""
        spec = self.last.get("spec") or {}
        layers = self.last.get("layers") or []
        return list(spec.get("input_shape") or []) == [1, 28, 28] and bool(layers) and \
            list(layers[-1]["output_shape"]) == [10]

    def state(self) -> Record:
        self.last = self.client.get(self.path, encoding="base64")
        return self.last

    def forward(self, inputs: ArrayLike) -> Record:
        """Every layer's output for a batch: `output`, `layers[i].output` (NumPy arrays)."""
        return self.client.post(f"{self.path}/forward", {"inputs": inputs}, encoding="base64")

    def backward(self, inputs: ArrayLike, targets: ArrayLike) -> Record:
        """Loss and every gradient (`grads['0.weight']`, …) without updating."""
        return self.client.post(f"{self.path}/backward", {"inputs": inputs, "targets": targets}, encoding="base64")

    def step(self, inputs: ArrayLike | None = None, targets: ArrayLike | None = None) -> Record:
        """One optimiser step on the given batch, or on the next mini-batch of the session's data."""
        return self.client.post(f"{self.path}/step", _drop_none({"inputs": inputs, "targets": targets}),
                                encoding="base64")

    def train(self, steps: int = 0, epochs: int = 0, *, every: int | None = None) -> Record:
        """Train; with `every`, in requests of that many epochs (or steps), so a page showing the session
        follows the training live. Returns the last request's result with the whole run's history."""
        if every is None:
            return self.client.post(f"{self.path}/train", {"steps": steps, "epochs": epochs})
        if every < 1:
            raise ValueError("every must be at least 1")
        history: list[Any] = []
        result = Record()
        for unit, total in (("epochs", epochs), ("steps", steps)):
            done = 0
            while done < total:
                chunk = min(every, total - done)
                result = self.client.post(f"{self.path}/train", {unit: chunk})
                history += result["history"]
                done += chunk
                if result["diverged"]:
                    break
        result["history"] = history
        return result

    def reset(self) -> Record:
        self.last = self.client.post(f"{self.path}/reset", encoding="base64")
        return self.last

    def walk(self, action: Literal["next", "prev"] = "next", granularity: Literal["layer", "neuron"] = "layer",
             to: int | None = None, inputs: ArrayLike | None = None, targets: ArrayLike | None = None) -> Record:
        """Reveal the next (or previous) stage of one training step; `to` jumps to a stage (-1: the start)."""
        body = _drop_none({"action": action, "granularity": granularity, "to": to, "inputs": inputs,
                           "targets": targets})
        return self.client.post(f"{self.path}/walk", body, encoding="base64")

    def walk_state(self) -> Record:
        return self.client.get(f"{self.path}/walk", encoding="base64")

    def walk_reset(self) -> Record:
        return self.client.request("DELETE", f"{self.path}/walk", params={"encoding": "base64"})

    def change(self, **changes: Any) -> Record:
        """Activation, output_activation, loss, learning_rate, batch_size, dtype or data, keeping the weights."""
        self.last = self.client.request("PATCH", self.path, json=changes, params={"encoding": "base64"})
        return self.last

    def configure(self, **hyperparameters: Any) -> Record:
        """Learning rate, batch size, optimiser, regularisation: applied at the next step (no reset)."""
        return self.client.request("PATCH", f"{self.path}/config", json=hyperparameters)

    def set_param(self, layer: int, name: str, index: Iterable[int], value: float) -> Record:
        return self.client.request("PATCH", f"{self.path}/params",
                                   json={"layer": layer, "name": name, "index": list(index), "value": value})

    def params(self) -> dict[str, np.ndarray]:
        """Every parameter keyed 'layer.name' (e.g. '0.weight'), as NumPy arrays."""
        return dict(self.state()["params"])

    def export(self, format: Format = "json") -> Any:
        """The network as a file: json (a dict), npz, onnx or safetensors (bytes)."""
        response = self.client.request("GET", f"{self.path}/export", params={"format": format}, raw=True)
        return response.json() if format == "json" else response.content

    def save(self, path: str | Path, format: Format | None = None) -> Path:
        """Write the export to `path` (the format from its extension unless given)."""
        path = Path(path)
        fmt = format or _format_of(path)
        data = self.client.request("GET", f"{self.path}/export", params={"format": fmt}, raw=True).content
        path.write_bytes(data)
        return path

    def delete(self) -> None:
        self.client.request("DELETE", self.path)

    # Playground views of the same session.

    def playground_state(self) -> Record:
        return self.client.get(f"/api/playground/{self.id}")

    def rebuild(self, keep_points: bool = True, **config: Any) -> Record:
        return self.client.request("PUT", f"/api/playground/{self.id}", json=config,
                                   params={"keep_points": str(keep_points).lower()})

    def frame(self, focus_layer: int | None = None, focus_index: int = 0) -> Record:
        """What the live stream would send now: weights, gradients, every neuron's map (NumPy arrays)."""
        return self.client.get(f"/api/playground/{self.id}/frame", focus_layer=focus_layer, focus_index=focus_index)

    def data(self) -> Record:
        return self.client.get(f"{self.path}/data", encoding="base64")

    def set_data(self, **data: Any) -> Record:
        return self.client.request("PUT", f"{self.path}/data", json=data)

    def add_point(self, point: ArrayLike, label: float, split: Literal["train", "test"] = "train") -> Record:
        return self.client.post(f"{self.path}/data/points", {"point": point, "label": label, "split": split})

    def remove_points(self, x1: float, x2: float, radius: float) -> Record:
        return self.client.request("DELETE", f"{self.path}/data/points",
                                   params={"x1": x1, "x2": x2, "radius": radius})

    def upload_csv(self, text: str, train_ratio: float | None = None, seed: int | None = None) -> Record:
        return self.client.request("PUT", f"{self.path}/data/csv", content=text.encode(), content_type="text/csv",
                                   params={"train_ratio": train_ratio, "seed": seed})


def _format_of(path: Path) -> Format:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("json", "npz", "onnx", "safetensors"):
        raise ValueError(f"cannot tell the format of {path.name}: use .json, .npz, .onnx or .safetensors, "
                         "or pass format=")
    return suffix  # type: ignore[return-value]


class Networks(Family):
    def presets(self) -> list[Record]:
        return self.client.get("/api/presets")

    def create(self, preset: str | None = None, spec: Mapping[str, Any] | None = None,
               data: Mapping[str, Any] | None = None) -> Network:
        """A network from a preset name or a spec, with optional data (a toy data set or your own X, y)."""
        body = _drop_none({"preset": preset, "spec": spec, "data": data})
        return Network(self.client, self.client.post("/api/networks", body, encoding="base64"))

    def get(self, network_id: str) -> Network:
        return Network(self.client, self.client.get(f"/api/networks/{network_id}", encoding="base64"))

    def load(self, source: str | Path | bytes | Mapping[str, Any], format: Format | None = None) -> Network:
        """Import a network file: Glassbox json/npz, safetensors or ONNX (a path, the bytes, or an export dict)."""
        if isinstance(source, Mapping):
            result = self.client.request("POST", "/api/networks/import", json=source, params={"encoding": "base64"})
            return Network(self.client, result)
        if isinstance(source, (str, Path)):
            path = Path(source)
            format = format or _format_of(path)
            source = path.read_bytes()
        content_type = "application/json" if format == "json" else "application/octet-stream"
        result = self.client.request("POST", "/api/networks/import", content=source, content_type=content_type,
                                     params=_drop_none({"encoding": "base64", "format": format}))
        return Network(self.client, result)


class Playground(Family):
    def catalog(self) -> Record:
        return self.client.get("/api/playground/catalog")

    def gallery(self, name: str) -> Record:
        return self.client.get(f"/api/playground/gallery/{name}", encoding="base64")

    def create(self, **config: Any) -> Network:
        """A Playground configuration (dataset, features, hidden, activation, learning_rate, …) as a session."""
        state = self.client.post("/api/playground", config)
        return Network(self.client, state)


# --- convolution and the single neuron ----------------------------------------------------------------------


class Convolution(Family):
    def apply(self, image: ArrayLike, kernel: ArrayLike, **options: Any) -> Record:
        """Convolve: stride, padding, bias, divisor, activation, grayscale, windows (every position's sums)."""
        return self.client.post("/api/conv/apply", {"image": image, "kernel": kernel, **options}, encoding="base64")

    def window(self, image: ArrayLike, kernel: ArrayLike, row: int, col: int, **options: Any) -> Record:
        return self.client.post("/api/conv/window", {"image": image, "kernel": kernel, "row": row, "col": col,
                                                     **options})

    def output_size(self, n: int, k: int, s: int = 1, p: int = 0) -> Record:
        return self.client.get("/api/conv/output-size", n=n, k=k, s=s, p=p)

    def kernels(self) -> list[Record]:
        return self.client.get("/api/conv/kernels")

    def examples(self, seed: int | None = None) -> Record:
        return self.client.get("/api/conv/examples", seed=seed)

    def samples(self) -> list[Record]:
        return self.client.get("/api/conv/samples")

    def sample(self, name: str, size: int | None = None) -> Record:
        return self.client.get(f"/api/conv/samples/{name}", size=size, encoding="base64")

    def parameters(self, **sizes: int) -> Record:
        """Parameters of a dense vs a convolutional layer: height, width, channels, units, filters, kernel."""
        return self.client.get("/api/conv/parameters", **sizes)

    def limits(self) -> Record:
        return self.client.get("/api/conv/limits")


class Neuron(Family):
    def activations(self) -> Record:
        return self.client.get("/api/functions/activations")

    def activation(self, activation: str, z: ArrayLike) -> Record:
        return self.client.post("/api/functions/activation", {"activation": activation, "z": z})

    def loss(self, loss: str, target: float, predictions: ArrayLike) -> Record:
        return self.client.post("/api/functions/loss", {"loss": loss, "target": target, "predictions": predictions})

    def forward(self, inputs: ArrayLike, weights: ArrayLike, bias: float = 0.0, activation: str = "sigmoid",
                other_z: ArrayLike | None = None) -> Record:
        return self.client.post("/api/neuron/forward", _drop_none({"inputs": inputs, "weights": weights,
                                                                    "bias": bias, "activation": activation,
                                                                    "other_z": other_z}))

    def plane(self, weights: ArrayLike, bias: float = 0.0, activation: str = "sigmoid", **options: Any) -> Record:
        return self.client.post("/api/neuron/plane", {"weights": weights, "bias": bias, "activation": activation,
                                                      **options}, encoding="base64")


# --- LeNet ------------------------------------------------------------------------------------------------------


class LeNetSession(Session):
    """A LeNet-5 training session: train it, read digits with it."""

    page = "/lenet"

    @property
    def path(self) -> str:
        return f"/api/lenet/sessions/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path, encoding="base64")
        return self.last

    def train(self, steps: int = 0, epochs: int = 0) -> Record:
        self.last = self.client.post(f"{self.path}/train", {"steps": steps, "epochs": epochs}, encoding="base64")
        return self.last

    def predict(self, image: ArrayLike | None = None, **options: Any) -> Record:
        return self.client.lenet.predict(image, session=self, **options)

    def filters(self) -> Record:
        return self.client.lenet.filters(self)

    def mistakes(self) -> Record:
        return self.client.lenet.mistakes(self)

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


DigitModel = LeNetSession | Network | str | None


class LeNet(Family):
    """The shipped LeNet-5 (session=None), a training session, or an imported digit network (a Network)."""

    def predict(self, image: ArrayLike | None = None, *, png: str | None = None, preprocess: bool = True,
                max_value: Literal[1, 255] = 1, invert: bool = False, session: DigitModel = None) -> Record:
        """The digit, the ten probabilities, the 28×28 input read and every layer's output (NumPy arrays)."""
        body = _drop_none({"image": image, "png": png, "preprocess": preprocess, "max_value": max_value,
                           "invert": invert, "session": _session_id(session)})
        result = self.client.post("/api/lenet/predict", body, encoding="base64")
        if result.get("probabilities") is not None:
            result["probabilities"] = np.asarray(result["probabilities"])
        return result

    def unit(self, image: ArrayLike, layer: str, index: int = 0, row: int = 0, col: int = 0,
             session: DigitModel = None) -> Record:
        """The arithmetic behind one unit for a 28×28 input."""
        return self.client.post("/api/lenet/unit", _drop_none({"image": image, "layer": layer, "index": index,
                                                                "row": row, "col": col,
                                                                "session": _session_id(session)}))

    def filters(self, session: DigitModel = None) -> Record:
        return self.client.get("/api/lenet/filters", session=_session_id(session), encoding="base64")

    def model(self, session: DigitModel = None) -> Record:
        return self.client.get("/api/lenet/model", session=_session_id(session))

    def samples(self, digit: int | None = None, n: int = 5, seed: int | None = None) -> Record:
        return self.client.get("/api/lenet/samples", digit=digit, n=n, seed=seed, encoding="base64")

    def mistakes(self, session: DigitModel = None) -> Record:
        return self.client.get("/api/lenet/mistakes", session=_session_id(session), encoding="base64")

    def create(self, **settings: Any) -> LeNetSession:
        """A fresh LeNet-5 to train: activation, pooling, learning_rate, batch_size, augment, seed."""
        return LeNetSession(self.client, self.client.post("/api/lenet/sessions", settings, encoding="base64"))

    def get(self, session_id: str) -> LeNetSession:
        return LeNetSession(self.client, self.client.get(f"/api/lenet/sessions/{session_id}", encoding="base64"))


# --- transformers and autoencoders ---------------------------------------------------------------------------


class Transformer(Session):
    page = "/attention"

    @property
    def path(self) -> str:
        return f"/api/transformers/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path)
        return self.last

    def train(self, steps: int, record_every: int = 10) -> Record:
        return self.client.post(f"{self.path}/train", {"steps": steps, "record_every": record_every})

    def reset(self) -> Record:
        self.last = self.client.post(f"{self.path}/reset")
        return self.last

    def forward(self, tokens: str | list[int | str], trace: bool = False) -> Record:
        """The answer and every attention map (`attention[i].weights`, NumPy) for one input sequence."""
        return self.client.post(f"{self.path}/forward", {"tokens": tokens, "trace": trace}, encoding="base64")

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


class Transformers(Family):
    def presets(self) -> list[Record]:
        return self.client.get("/api/transformers/presets")

    def create(self, preset: str = "reverse", model: Mapping[str, Any] | None = None,
               train: Mapping[str, Any] | None = None, task: Mapping[str, Any] | None = None) -> Transformer:
        body = _drop_none({"preset": preset, "model": model, "train": train, "task": task})
        return Transformer(self.client, self.client.post("/api/transformers", body))

    def get(self, session_id: str) -> Transformer:
        return Transformer(self.client, self.client.get(f"/api/transformers/{session_id}"))


class Autoencoder(Session):
    page = "/autoencoder"

    @property
    def path(self) -> str:
        return f"/api/autoencoders/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path)
        return self.last

    def train(self, steps: int = 0, epochs: int = 0) -> Record:
        self.last = self.client.post(f"{self.path}/train", {"steps": steps, "epochs": epochs})
        return self.last

    def encode(self, images: ArrayLike | None = None, png: str | None = None) -> Record:
        """Codes (`points`) and reconstructions of 28×28 digits in 0..1, or of one drawing as a PNG data URL."""
        return self.client.post(f"{self.path}/encode", _drop_none({"images": images, "png": png}), encoding="base64")

    def decode(self, points: ArrayLike) -> Record:
        return self.client.post(f"{self.path}/decode", {"points": points}, encoding="base64")

    def map(self) -> Record:
        return self.client.get(f"{self.path}/map", encoding="base64")

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


class Autoencoders(Family):
    def create(self, pretrained: bool = True, **settings: Any) -> Autoencoder:
        """The shipped autoencoder (pretrained) or random weights: hidden, latent, activation, loss, … ."""
        return Autoencoder(self.client, self.client.post("/api/autoencoders", {"pretrained": pretrained,
                                                                               **settings}))

    def get(self, session_id: str) -> Autoencoder:
        return Autoencoder(self.client, self.client.get(f"/api/autoencoders/{session_id}"))

    def digits(self) -> Record:
        return self.client.get("/api/autoencoders/digits", encoding="base64")

    def pca(self) -> Record:
        return self.client.get("/api/autoencoders/pca", encoding="base64")

    def pca_decode(self, points: ArrayLike) -> Record:
        return self.client.post("/api/autoencoders/pca/decode", {"points": points}, encoding="base64")


# --- reinforcement learning -----------------------------------------------------------------------------------


class _NoPage(Session):
    def page_path(self, page: str | None = None) -> str:
        # The Q-learning page makes its own sessions; it does not attach to one from its URL yet.
        raise NotImplementedError("the Q-learning page cannot show an existing session yet; open /qlearning")


class GridWorld(_NoPage):
    """A tabular Q-learning (or SARSA) session on a grid world."""

    @property
    def path(self) -> str:
        return f"/api/rl/gridworlds/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path, encoding="base64")
        return self.last

    def step(self) -> Record:
        """One move of the agent, with the Q-value update it made."""
        return self.client.post(f"{self.path}/step", encoding="base64")

    def train(self, episodes: int) -> Record:
        return self.client.post(f"{self.path}/train", {"episodes": episodes}, encoding="base64")

    def q(self, optimal: bool = False) -> Record:
        """The Q-table (NumPy), or with `optimal` the values value iteration gives for comparison."""
        return self.client.get(f"{self.path}/q", encoding="base64", optimal=str(optimal).lower())

    def configure(self, **learner: Any) -> Record:
        """alpha, gamma, epsilon, algorithm (q-learning or sarsa), …: applied from the next move."""
        return self.client.post(f"{self.path}/settings", learner, encoding="base64")

    def edit_world(self, **world: Any) -> Record:
        """A new layout or rewards (the Q-table starts again from zeros)."""
        return self.client.post(f"{self.path}/world", world, encoding="base64")

    def reset(self) -> Record:
        self.last = self.client.post(f"{self.path}/reset", encoding="base64")
        return self.last

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


class Agent(_NoPage):
    """A Q-network agent (DQN) learning a game."""

    @property
    def path(self) -> str:
        return f"/api/rl/agents/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path, encoding="base64")
        return self.last

    def train(self, steps: int) -> Record:
        """Play `steps` moves, one optimiser step after each once learning has started."""
        return self.client.post(f"{self.path}/train", {"steps": steps}, encoding="base64")

    def play(self, episodes: int = 1, epsilon: float = 0.0, seed: int | None = None) -> Record:
        return self.client.post(f"{self.path}/play", _drop_none({"episodes": episodes, "epsilon": epsilon,
                                                                  "seed": seed}), encoding="base64")

    def configure(self, **settings: Any) -> Record:
        return self.client.post(f"{self.path}/settings", settings, encoding="base64")

    def reset(self) -> Record:
        self.last = self.client.post(f"{self.path}/reset", encoding="base64")
        return self.last

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


class RL(Family):
    """Grid worlds (tabular Q-learning) and Q-network agents."""

    def grid_presets(self) -> list[Record]:
        return self.client.get("/api/rl/gridworlds/presets")

    def gridworld(self, preset: str = "classic", world: Mapping[str, Any] | None = None,
                  learner: Mapping[str, Any] | None = None, seed: int = 0) -> GridWorld:
        body = _drop_none({"preset": preset, "world": world, "learner": learner, "seed": seed})
        return GridWorld(self.client, self.client.post("/api/rl/gridworlds", body, encoding="base64"))

    def get_gridworld(self, session_id: str) -> GridWorld:
        return GridWorld(self.client, self.client.get(f"/api/rl/gridworlds/{session_id}", encoding="base64"))

    def agent(self, game: str = "catch", pretrained: bool = False, **settings: Any) -> Agent:
        body = {"game": game, "pretrained": pretrained, **settings}
        return Agent(self.client, self.client.post("/api/rl/agents", body, encoding="base64"))

    def get_agent(self, session_id: str) -> Agent:
        return Agent(self.client, self.client.get(f"/api/rl/agents/{session_id}", encoding="base64"))


# --- the character language model and the course ----------------------------------------------------------


class CharLMSession(_NoPage):
    """A character language model trained from scratch (on your text or the shipped Shakespeare)."""

    @property
    def path(self) -> str:
        return f"/api/charlm/sessions/{self.id}"

    def state(self) -> Record:
        self.last = self.client.get(self.path)
        return self.last

    def train(self, steps: int, record_every: int | None = None) -> Record:
        self.last = self.client.post(f"{self.path}/train", _drop_none({"steps": steps, "record_every": record_every}))
        return self.last

    def reset(self) -> Record:
        self.last = self.client.post(f"{self.path}/reset")
        return self.last

    def predict(self, text: str, **options: Any) -> Record:
        return self.client.charlm.predict(text, session=self, **options)

    def generate(self, text: str, length: int = 200, **options: Any) -> Record:
        return self.client.charlm.generate(text, length, session=self, **options)

    def delete(self) -> None:
        self.client.request("DELETE", self.path)


class CharLM(Family):
    """The shipped character model (session=None) or a CharLMSession: next characters, writing, attention."""

    def info(self) -> Record:
        return self.client.get("/api/charlm")

    def predict(self, text: str, *, temperature: float = 1.0, top_k: int | None = None,
                session: CharLMSession | str | None = None, **options: Any) -> Record:
        """The next character's distribution after `text`, with the logit lens of every layer."""
        body = _drop_none({"text": text, "temperature": temperature, "top_k": top_k, "session": _session_id(session),
                           **options})
        return self.client.post("/api/charlm/predict", body)

    def generate(self, text: str, length: int = 200, *, temperature: float = 0.8, seed: int = 0,
                 top_k: int | None = None, session: CharLMSession | str | None = None) -> Record:
        body = _drop_none({"text": text, "length": length, "temperature": temperature, "seed": seed,
                           "top_k": top_k, "session": _session_id(session)})
        return self.client.post("/api/charlm/generate", body)

    def attention(self, text: str, session: CharLMSession | str | None = None) -> Record:
        """Every head's attention over `text`: weights [layer][head][query][key] as a NumPy array."""
        return self.client.post("/api/charlm/attention", _drop_none({"text": text, "session": _session_id(session)}),
                                encoding="base64")

    def embedding(self, session: CharLMSession | str | None = None) -> Record:
        return self.client.get("/api/charlm/embedding", session=_session_id(session), encoding="base64")

    def create(self, text: str | None = None, model: Mapping[str, Any] | None = None,
               train: Mapping[str, Any] | None = None, **options: Any) -> CharLMSession:
        body = _drop_none({"text": text, "model": model, "train": train, **options})
        return CharLMSession(self.client, self.client.post("/api/charlm/sessions", body))

    def get(self, session_id: str) -> CharLMSession:
        return CharLMSession(self.client, self.client.get(f"/api/charlm/sessions/{session_id}"))


class Lessons(Family):
    """The course: its lessons, their exercises' checks, and the loss surface its optimiser lesson draws."""

    def list(self) -> Record:
        return self.client.get("/api/lessons")

    def get(self, number: int) -> Record:
        return self.client.get(f"/api/lessons/{number}")

    def check(self, number: int, exercise: str, **attempt: Any) -> Record:
        return self.client.post(f"/api/lessons/{number}/exercises/{exercise}/check", attempt)

    def loss_surface(self, **request: Any) -> Record:
        return self.client.post("/api/loss-surface", request, encoding="base64")
