"""`pycodex doctor`'s check of pycodex's own local model: installed, built, running where."""

from __future__ import annotations

import os

from pycodex._records import replace
from pycodex.cli.doctor_checks import Check
from pycodex.config import Config
from pycodex.local.errors import LocalModelError
from pycodex.local.install import install_status
from pycodex.local.manifest import load_manifest
from pycodex.local.paths import LocalPaths
from pycodex.local.server import running_server


def local_check(config: Config, model: str | None) -> tuple[Check, Config]:
    """The `local` check, and the config a run would use (the server's address and model)."""
    try:
        manifest = load_manifest(os.environ)
    except LocalModelError as err:
        return Check("local", "fail", str(err), "fix or unset PYCODEX_LOCAL_MANIFEST"), config
    paths = LocalPaths.from_env(os.environ)
    model_id = manifest.model.id
    config = replace(config, model=model_id)
    if model is not None and model != model_id:
        detail = f"-m {model}: pycodex's local server serves {model_id} only"
        return Check("local", "fail", detail, "drop -m, or run your own server"), config
    status = install_status(paths, manifest)
    if not status.ready:
        missing = [
            what
            for what, ready in (
                ("model", status.model_ready),
                ("llama-server", status.binary_ready),
            )
            if not ready
        ]
        detail = f"{model_id}: {' and '.join(missing)} not installed in {paths.root}"
        fix = "run `pycodex local install` (the first `pycodex exec --oss` does it too)"
        return Check("local", "warn", detail, fix), config
    state = running_server(paths)
    if state is None:
        detail = f"{model_id} installed in {paths.root}; the server is not running"
        return Check(
            "local", "warn", detail, "`pycodex local start`, or any run with --oss"
        ), config
    provider = replace(config.model_provider, base_url=state.base_url)
    config = replace(config, model_provider=provider, model_context_window=state.n_ctx)
    detail = (
        f"{model_id} served at {state.base_url} (context {state.n_ctx} tokens, "
        f"{state.threads} thread(s), pid {state.server_pid})"
    )
    return Check("local", "ok", detail), config
