"""`--oss`, `--local-provider` and `--vllm-endpoint` as `-c` overrides, and when to ask /models."""

from __future__ import annotations

from pycodex.cli.exec_args import ExecArgs, parse_exec_args
from pycodex.cli.local_provider import local_overrides, vllm_base_url, wants_served_model


def test_flags_parse() -> None:
    args = parse_exec_args(["--local-provider", "vllm", "--vllm-endpoint", "http://h:1", "hi"])
    assert (args.local_provider, args.vllm_endpoint) == ("vllm", "http://h:1")


def test_local_flags_become_overrides() -> None:
    vllm = ExecArgs(prompt=None, vllm_endpoint="http://gpu:8000")
    assert local_overrides(vllm, {}) == [
        ("model_provider", "vllm"),
        ("model_providers.vllm.base_url", "http://gpu:8000/v1"),
        ("model_providers.vllm.wire_api", "chat"),
        ("model_providers.vllm.provider_kind", "vllm"),
    ]
    assert local_overrides(vllm, {"VLLM_API_KEY": "k"})[-1] == (
        "model_providers.vllm.env_key",
        "VLLM_API_KEY",
    )
    lmstudio = ExecArgs(prompt=None, local_provider="LM Studio")
    assert local_overrides(lmstudio, {}) == [
        ("model_provider", "oss"),
        ("model_providers.oss.provider_kind", "generic"),
        ("model_providers.oss.base_url", "http://localhost:1234/v1"),
    ]
    assert local_overrides(lmstudio, {"CODEX_OSS_BASE_URL": "http://x/v1"})[-1][0].endswith(
        "provider_kind"
    )
    named = ExecArgs(prompt=None, local_provider="my-gateway")
    assert local_overrides(named, {}) == [("model_provider", "my-gateway")]
    assert local_overrides(ExecArgs(prompt=None, oss=True), {}) == [("model_provider", "oss")]
    assert local_overrides(ExecArgs(prompt=None), {}) == []


def test_model_discovery_only_without_a_model_flag() -> None:
    assert wants_served_model(ExecArgs(prompt=None, oss=True))
    assert not wants_served_model(ExecArgs(prompt=None, oss=True, model="m"))
    assert not wants_served_model(ExecArgs(prompt=None))
    assert vllm_base_url("http://h:8000/") == "http://h:8000/v1"
    assert vllm_base_url("http://h:8000/v1") == "http://h:8000/v1"


def test_exec_and_the_repl_load_the_local_model_machinery_only_when_used() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, pycodex.cli.exec_command, pycodex.cli.interactive_command\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pycodex.local', "
        "'pycodex.cli.local_managed', 'pycodex.cli.local_progress'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
