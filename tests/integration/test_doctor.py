"""`pycodex doctor` as a subprocess against the fake server, a closed port and broken configs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from support import downstream_builders as down
from support import sse_builders as sse
from support.cli import cli_env, write_config
from support.fake_server import FakeModelServer

# Called directly until `pycodex doctor` is routed in cli/main.py; the code under test is the same.
RUN_DOCTOR = (
    "import sys; from pycodex.cli.doctor_command import run_doctor_command; "
    "sys.exit(run_doctor_command(sys.argv[1:]))"
)
# The sandbox check must not depend on the machine running the tests.
FULL_ACCESS = ["-c", 'sandbox_mode="danger-full-access"']
ORDER = ["config", "dotenv", "provider", "api_key", "proxy", "dns", "connect", "live", "sandbox"]


def doctor(
    args: list[str], home: Path, cwd: Path, **env: str
) -> tuple[int, list[dict[str, Any]], str]:
    """Run doctor with --json; the exit code, the checks and stderr."""
    environment = cli_env(home, **env)
    for name in [key for key, value in env.items() if value == ""]:
        environment.pop(name)
    proc = subprocess.run(
        [sys.executable, "-c", RUN_DOCTOR, "--json", *FULL_ACCESS, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=60,
    )
    found = json.loads(proc.stdout) if proc.stdout.strip() else []
    return proc.returncode, found, proc.stderr


def by_name(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in found}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_everything_ok_against_the_fake_server(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_sse("/v1/responses", sse.assistant_reply("OK"))
    code, found, stderr = doctor([], home, tmp_path)
    assert code == 0, stderr
    assert [check["name"] for check in found] == ORDER
    statuses = {check["name"]: check["status"] for check in found if check["name"] != "sandbox"}
    assert set(statuses.values()) == {"ok"}, found
    assert "model test-model answered 'OK'" in by_name(found)["live"]["detail"]
    body = fake_server.requests[0].json()
    assert body["input"][-1]["content"][0]["text"] == "Reply with exactly OK."


def test_json_shape(fake_server: FakeModelServer, home: Path, tmp_path: Path) -> None:
    code, found, _ = doctor(["--skip-live"], home, tmp_path)
    assert code == 0
    assert [check["name"] for check in found] == [n for n in ORDER if n != "live"]
    for check in found:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail")
        assert isinstance(check["detail"], str) and check["detail"]
        assert check["fix"] is None or isinstance(check["fix"], str)


def test_live_check_through_the_chat_wire_api(fake_server: FakeModelServer, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    write_config(home, fake_server, extra='wire_api = "chat"\nprovider_kind = "vllm"')
    fake_server.expect_chat_stream("/v1/chat/completions", down.chat_text("OK."))
    code, found, stderr = doctor([], home, tmp_path)
    assert code == 0, stderr
    checks = by_name(found)
    assert "wire API chat" in checks["provider"]["detail"]
    assert "kind vllm" in checks["provider"]["detail"]
    assert checks["live"]["status"] == "ok"


def test_closed_port_fails_the_connect_check(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    url = f"http://127.0.0.1:{closed_port()}/v1"
    (home / "config.toml").write_text(
        f'model_provider = "local"\n[model_providers.local]\nbase_url = "{url}"\n'
        'wire_api = "chat"\nrequest_max_retries = 0\n'
    )
    code, found, _ = doctor([], home, tmp_path)
    assert code == 1
    checks = by_name(found)
    assert checks["connect"]["status"] == "fail"
    assert "cannot connect to 127.0.0.1" in checks["connect"]["detail"]
    assert checks["connect"]["fix"]
    assert checks["live"] == {
        "name": "live",
        "status": "warn",
        "detail": "not run: connect failed",
        "fix": None,
    }


def test_missing_api_key_fails(fake_server: FakeModelServer, home: Path, tmp_path: Path) -> None:
    code, found, _ = doctor(["--skip-live"], home, tmp_path, FAKE_API_KEY="")
    assert code == 1
    key = by_name(found)["api_key"]
    assert key["status"] == "fail" and "FAKE_API_KEY" in key["detail"]
    assert key["fix"].startswith("export FAKE_API_KEY=")


def test_keyless_local_provider_is_fine(fake_server: FakeModelServer, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    fake_server.expect_json("/v1/models", {"data": [{"id": "gpt-oss:20b"}]})
    fake_server.expect_chat_stream("/v1/chat/completions", down.chat_text("OK"))
    code, found, stderr = doctor(["--oss"], home, tmp_path, CODEX_OSS_BASE_URL=fake_server.base_url)
    assert code == 0, stderr
    checks = by_name(found)
    assert checks["api_key"]["status"] == "ok" and "not needed" in checks["api_key"]["detail"]
    assert "model gpt-oss:20b answered" in checks["live"]["detail"]
    assert "authorization" not in fake_server.requests[1].headers


def test_rejected_key_fails_the_live_check(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    fake_server.expect_error("/v1/responses", 401, {"error": {"message": "Incorrect API key"}})
    code, found, _ = doctor([], home, tmp_path)
    assert code == 1
    live = by_name(found)["live"]
    assert live["status"] == "fail" and "Incorrect API key" in live["detail"]
    assert "API key" in live["fix"]


def test_config_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text('model = "a"\nmodel = \n')
    code, found, _ = doctor([], home, tmp_path)
    assert code == 1
    assert [check["name"] for check in found] == ["config", "dotenv"]
    config = found[0]
    assert config["status"] == "fail" and "config.toml" in config["detail"]
    assert "\n" not in config["detail"]


def test_human_output_is_one_line_per_check(
    fake_server: FakeModelServer, home: Path, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RUN_DOCTOR, "--skip-live", *FULL_ACCESS],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(home),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [n for n in ORDER if n != "live"]
    assert all(line.split()[0] in ("ok", "warn", "fail") for line in lines)


def test_mcp_servers_are_started_and_counted(fake_server: FakeModelServer, tmp_path: Path) -> None:
    from support.mcp_servers import probe_table, table

    home = tmp_path / "home"
    servers = probe_table("probe", disabled_tools=["fail"])
    servers += table("broken", command="/nonexistent/mcp-server")
    servers += table("off", command="x", enabled=False)
    write_config(home, fake_server, servers)
    code, found, stderr = doctor(["--skip-live"], home, tmp_path)
    assert code == 0, stderr
    checks = by_name(found)
    assert checks["mcp probe"]["status"] == "ok"
    assert checks["mcp probe"]["detail"] == "starts, offers 6 tools"
    assert checks["mcp broken"]["status"] == "warn"
    assert checks["mcp broken"]["detail"].startswith("does not start: No such file or directory")
    assert checks["mcp off"]["detail"] == "disabled (enabled = false)"
    assert [c["name"] for c in found][-3:] == ["mcp broken", "mcp off", "mcp probe"]
