"""`install`, `status` and `remove` of the local model and its server binary.

`install` is idempotent (a second call checks two stamps and returns) and resumable (each step
skips what an earlier, killed call finished). Two installs at once are serialized by a lock file,
so a second `pycodex exec --oss` started during the first one waits rather than doubling the work.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pycodex._records import dataclass
from pycodex.local import build, model_files
from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import Manifest
from pycodex.local.model_files import DamagedPartError
from pycodex.local.paths import LocalPaths
from pycodex.local.progress import Progress


@dataclass(frozen=True, slots=True)
class InstallStatus:
    model_file: Path
    model_ready: bool
    parts_downloaded: int
    binary: Path
    binary_ready: bool
    build_features: tuple[str, ...] | None

    @property
    def ready(self) -> bool:
        return self.model_ready and self.binary_ready


def install_status(paths: LocalPaths, manifest: Manifest) -> InstallStatus:
    model = manifest.model
    record = build.build_record(paths, manifest.source)
    features = record.get("features") if record else None
    return InstallStatus(
        model_file=model_files.model_path(paths, model),
        model_ready=model_files.model_ready(paths, model),
        parts_downloaded=model.parts - len(model_files.missing_parts(paths, model)),
        binary=build.binary_path(paths, manifest.source),
        binary_ready=build.server_ready(paths, manifest.source),
        build_features=tuple(features) if isinstance(features, list) else None,
    )


def install(
    paths: LocalPaths, manifest: Manifest, progress: Progress, env: Mapping[str, str]
) -> InstallStatus:
    """Make the model file and the server binary ready; raises `LocalModelError`."""
    with _locked(paths.install_lock):
        try:
            if not model_files.model_ready(paths, manifest.model):
                _install_model(paths, manifest, progress, env)
            if not build.server_ready(paths, manifest.source):
                build.build_server(paths, manifest.source, progress, env)
        except OSError as err:  # a full disk, a directory that cannot be written...
            raise LocalModelError(f"installing the local model failed: {_describe(err)}") from None
    return install_status(paths, manifest)


def _describe(err: OSError) -> str:
    reason = err.strerror or str(err)
    return f"{err.filename}: {reason}" if err.filename else reason


def remove(paths: LocalPaths, manifest: Manifest) -> None:
    """Delete the model, the binary, the downloads and the server state (the server is stopped
    by the caller first)."""
    with _locked(paths.install_lock):
        model_files.remove_model(paths, manifest.model)
        build.remove_server(paths, manifest.source)
        shutil.rmtree(paths.server, ignore_errors=True)
        for directory in (paths.downloads, paths.models):
            _remove_if_empty(directory)
    paths.install_lock.unlink(missing_ok=True)
    _remove_if_empty(paths.root)


def _install_model(
    paths: LocalPaths, manifest: Manifest, progress: Progress, env: Mapping[str, str]
) -> None:
    for attempt in (1, 2):
        model_files.fetch_parts(paths, manifest.model, progress, env)
        try:
            model_files.assemble_model(paths, manifest.model, progress)
            return
        except DamagedPartError as err:
            if attempt == 2:
                raise
            progress.note(f"{err}; fetching it again")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as err:
        message = f"cannot write to the cache directory {path.parent}: {err.strerror}"
        raise LocalModelError(message) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _remove_if_empty(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass
