"""The first-use hook of `pycodex exec --oss` and `pycodex --oss`: pycodex's own local model.

When the selected provider is the managed one (the built-in `oss`, not moved elsewhere), the run
needs the model installed and the server up before its first request: this installs on first use
(progress on stderr, so `--json` output stays clean), starts the server or finds the one already
running, holds a lease on it for the run (so its idle timer waits), and returns the config with
the server's real address, the model it serves and its real context window.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager

from pycodex._records import replace
from pycodex.cli.local_progress import TerminalProgress
from pycodex.config import Config
from pycodex.local.errors import LocalModelError
from pycodex.local.install import install, install_status
from pycodex.local.manifest import load_manifest
from pycodex.local.paths import LocalPaths
from pycodex.local.server import ServerSettings, ensure_server, running_server
from pycodex.local.state import lease


class ModelChoiceError(Exception):
    """`-m` names a model the managed server does not serve (a usage error)."""


def run_with_managed_model(
    config: Config, explicit_model: str | None, run: Callable[[Config], int]
) -> int:
    """`run(config)` against the managed server, holding its lease; a setup failure is one line on
    stderr and exit 2 (a foreign `-m`) or 1 (installing or starting failed)."""
    try:
        chosen, held = prepare_managed_model(config, explicit_model)
    except ModelChoiceError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except LocalModelError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    with held:
        return run(chosen)


def prepare_managed_model(
    config: Config, explicit_model: str | None
) -> tuple[Config, AbstractContextManager[None]]:
    """The config aimed at the running managed server, and the lease to hold while using it.

    Raises `ModelChoiceError` for a foreign `-m`, `pycodex.local.errors.LocalModelError` when
    installing or starting failed.
    """
    env = os.environ
    paths = LocalPaths.from_env(env)
    manifest = load_manifest(env)
    model_id = manifest.model.id
    if explicit_model is not None and explicit_model != model_id:
        raise ModelChoiceError(
            f"pycodex's local server serves {model_id} only, not {explicit_model!r}; for another "
            "model run your own server and pass --local-provider (see docs/local.md)"
        )
    state = running_server(paths)
    if state is None or state.model_id != model_id:
        if not install_status(paths, manifest).ready:
            _say(
                f"installing the local model {model_id} into {paths.root} (first use only: "
                "about 1.1 GB to download and a build of llama-server that takes several minutes)"
            )
            install(paths, manifest, TerminalProgress(sys.stderr, on_terminal=_tty()), env)
        _say("starting the local model server")
        state = ensure_server(paths, manifest, ServerSettings.from_env(env), env)
        _say(
            f"local model server ready at {state.base_url} "
            f"(context {state.n_ctx} tokens, {state.threads} thread(s))"
        )
    provider = replace(config.model_provider, base_url=state.base_url)
    window = state.n_ctx
    if config.model_context_window is not None and window is not None:
        window = min(window, config.model_context_window)
    chosen = replace(
        config,
        model_provider=provider,
        model=model_id,
        model_context_window=window or config.model_context_window,
    )
    return chosen, lease(paths)


def _say(text: str) -> None:
    sys.stderr.write(f"pycodex: {text}\n")
    sys.stderr.flush()


def _tty() -> bool:
    return sys.stderr.isatty()
