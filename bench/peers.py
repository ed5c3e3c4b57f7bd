"""Peer comparison (opt-in, never in CI): pycodex against the upstream Codex CLI and python-codex,
and `pycodex serve` against LiteLLM's proxy (the proxy is driven by bench/serve_bench.py; this
module installs and starts it: `litellm_proxy`).

Runs only with `PYCODEX_BENCH_PEERS=1`; otherwise it adds one "skipped" row and returns at once.
With it:

1. Installs the peers into a fresh temporary directory: `npm install --prefix <tmp>/npm
   @openai/codex` (the upstream Rust CLI; its npm package ships the native binary) and
   `python-codex` from PyPI ("a minimal Python extraction of Codex's main agent loop") into a
   venv of its own (`<tmp>/pyvenv`: it also imports as `pycodex`, so it must not share an
   environment with this project).
2. Gives each agent its own CODEX_HOME whose config.toml points a `fake` provider (Responses wire
   API, `env_key = "FAKE_API_KEY"`) at a `FakeModelServer` on 127.0.0.1 (tests/support; a fresh
   one per agent, scripted alike, so a failed run leaves nothing queued for the next). Upstream's
   start-up network calls are switched off in its config: plugin sync (`features.plugins`,
   `features.remote_plugin`: github.com, chatgpt.com) and analytics (`analytics.enabled`: the
   Statsig metrics exporter). The peers also run with HTTP(S)_PROXY set to a closed loopback port
   and NO_PROXY=127.0.0.1, so anything else they tried would fail locally.
3. Scenario 1, start-up: a one-request `exec --json` (python-codex: `pycodex --json PROMPT`), whole
   process wall time, median of 10 after a warm-up. The warm-up's request shows the tools the agent
   advertises; scenario 2 calls the one that runs a command (`exec_command`, else `shell_command`,
   else `shell`) with the argument names from that schema. Upstream is timed twice: through the
   npm `codex` command (a node script that execs the native binary: what a user runs) and through
   the native binary directly (scenario 1 only).
4. Scenario 2, tool loop: one turn of 200 tool round trips, each running `true` (`login: false`
   where the tool has it, so the machine's login profile does not dominate), then a final message.
   Whole process, median of 3; per iteration = (turn - scenario 1 median) / 200. The last request
   must carry all 200 tool outputs, or the row says what was missing.

Python agents run with bytecode caches (pycodex's are compiled first; PYTHONDONTWRITEBYTECODE is
dropped from every child's environment), as an installed copy would. Every agent runs with approvals
and sandbox off (`--dangerously-bypass-approvals-and-sandbox`; python-codex's defaults are
`danger-full-access` and `never`). Ratios are pycodex/peer: below 1 means pycodex is faster.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Table, stop, use_test_support

ENV_FLAG = "PYCODEX_BENCH_PEERS"
STARTUP_RUNS = 10
LOOP_RUNS = 3
ITERATIONS = 200
UPSTREAM_PACKAGE = "@openai/codex"
PY_PEER_PACKAGE = "python-codex"
LITELLM_REQUIREMENT = "litellm[proxy]"
LITELLM_START_TIMEOUT_S = 180
LITELLM_KEY = "sk-bench-" + "0123456789abcdef" * 2  # its clients' key; the proxy wants one
API_KEY = "sk-bench"
INSTALL_TIMEOUT_S = 900
STARTUP_TIMEOUT_S = 120
LOOP_TIMEOUT_S = 1200
# The peers' proxy: nothing listens on the discard port, so a stray request fails locally.
DEAD_PROXY = "http://127.0.0.1:9"


class PeerError(Exception):
    """A step of one agent failed; the message becomes its row's note."""


@dataclass
class Agent:
    name: str
    command: list[str]  # the prompt is appended
    home: Path
    env: dict[str, str]
    config: Callable[[Any], str] = lambda server: ""  # config.toml for the server's address
    version: str = ""
    variant: str = ""  # how it was launched, when that needs saying
    loop: bool = True  # False: scenario 1 only
    startup_s: float | None = None
    loop_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        label = f"{self.name} {self.version}".strip()
        return f"{label} ({self.variant})" if self.variant else label

    @property
    def per_iteration_s(self) -> float | None:
        """The turn's wall time less the start-up median, per tool round trip."""
        if self.loop_s is None or self.startup_s is None:
            return None
        return (self.loop_s - self.startup_s) / ITERATIONS

    def run(self, prompt: str, timeout: float) -> float:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [*self.command, prompt],
                capture_output=True,
                text=True,
                env=self.env,
                cwd=self.home.parent / "work",
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise PeerError(f"timed out after {timeout:.0f} s") from exc
        except OSError as exc:
            raise PeerError(f"cannot run {self.command[0]}: {exc}") from exc
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PeerError(f"exit {done.returncode}: {' / '.join(tail)[:300]}")
        return elapsed


def run(table: Table) -> None:
    if os.environ.get(ENV_FLAG) != "1":
        table.add(
            "peers",
            f"skipped: set {ENV_FLAG}=1",
            "installs upstream codex (npm) and python-codex (PyPI) into a temp dir",
        )
        return
    use_test_support()
    from support.fake_server import FakeModelServer

    with tempfile.TemporaryDirectory(prefix="pycodex-peers-") as tmp:
        root = Path(tmp)
        agents = [_pycodex(root)]
        agents += [
            _install(root, name, make)
            for name, make in (("upstream codex", _upstream), ("python-codex", _python_codex))
        ]
        agents[2:2] = _upstream_native(agents[1])
        for agent in agents:
            if agent.notes:
                continue  # not installed
            # A fresh FakeModelServer each, so one agent's failure leaves nothing queued for the
            # next; the config is written once the port is known.
            server = FakeModelServer().start()
            try:
                (agent.home / "config.toml").write_text(agent.config(server), encoding="utf-8")
                _measure(agent, server)
            finally:
                server.close()
    _report(table, agents)


# -- agents ------------------------------------------------------------------------------------


def _base_env(home: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE goes too: an installed package has its .pyc files (pip writes them),
    # and without them each run would recompile from source and measure the compiler.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "CODEX_"))
        and k not in ("FAKE_API_KEY", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(CODEX_HOME=str(home), FAKE_API_KEY=API_KEY, NO_COLOR="1")
    return env


def _peer_env(home: Path) -> dict[str, str]:
    env = _base_env(home)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = DEAD_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _home(root: Path, name: str) -> Path:
    home = root / name / "home"
    home.mkdir(parents=True)
    (root / name / "work").mkdir()
    return home


def _provider_toml(server: Any) -> str:
    return f"""
[model_providers.fake]
name = "Fake"
base_url = "{server.base_url}"
env_key = "FAKE_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def _pycodex(root: Path) -> Agent:
    import pycodex
    from support.cli import write_config

    # The bytecode caches an installed copy would have (the work tree may lack some).
    compileall.compile_dir(Path(pycodex.__file__).parent, quiet=1)
    home = _home(root, "pycodex")

    def config(server: Any) -> str:
        write_config(home, server)  # the test suite's: unified exec, fast retries
        return (home / "config.toml").read_text(encoding="utf-8")

    command = [
        sys.executable,
        "-m",
        "pycodex",
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
    ]
    return Agent("pycodex", command, home, _base_env(home), config, version=pycodex.__version__)


def _upstream(agent: Agent, root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise PeerError("npm not found")
    prefix = root / "npm"
    _install_step(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", UPSTREAM_PACKAGE]
    )
    codex = prefix / "node_modules" / ".bin" / "codex"
    agent.config = lambda server: (
        'model = "test-model"\nmodel_provider = "fake"\ncheck_for_update_on_startup = false\n'
        + _provider_toml(server)
        + "\n[analytics]\nenabled = false\n\n[features]\nplugins = false\nremote_plugin = false\n"
    )
    agent.command = [
        str(codex),
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
    ]
    agent.version = _version([str(codex), "--version"], agent.env)
    agent.variant = "npm `codex` command"


def _upstream_native(shim: Agent) -> list[Agent]:
    """The native binary the npm `codex` command (a node script) execs, for start-up only."""
    if shim.notes:
        return []
    package = Path(shim.command[0]).parent.parent / "@openai"
    found = sorted(package.glob("codex-*/vendor/*/bin/codex"))
    if not found:
        return []
    env = {
        **shim.env,
        "CODEX_MANAGED_BY_NPM": "1",
        "CODEX_MANAGED_PACKAGE_ROOT": str(package / "codex"),
    }  # as the node script sets them
    command = [str(found[0]), *shim.command[1:]]
    return [
        Agent(
            shim.name,
            command,
            shim.home,
            env,
            shim.config,
            version=shim.version,
            variant="its native binary, without node",
            loop=False,
        )
    ]


def _python_codex(agent: Agent, root: Path) -> None:
    venv = python_venv(root / "pyvenv", PY_PEER_PACKAGE)
    agent.config = lambda server: (
        'model = "test-model"\nmodel_provider = "fake"\nsandbox_mode = "danger-full-access"\n'
        'approval_policy = "never"\n' + _provider_toml(server)
    )
    config = agent.home / "config.toml"
    # No exec subcommand: a prompt on the command line runs one turn and exits; --json prints
    # the TurnResult (one JSON document, not an event stream).
    agent.command = [str(venv / "bin" / "pycodex"), "--config", str(config), "--json"]
    probe = "import importlib.metadata as m; print(m.version('python-codex'))"
    agent.version = _version([str(venv / "bin" / "python"), "-c", probe], agent.env)


def python_venv(venv: Path, requirement: str) -> Path:
    """A fresh venv at `venv` with `requirement` installed from PyPI (raises `PeerError`)."""
    _install_step([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    _install_step([*pip, "--disable-pip-version-check", requirement])
    return venv


# -- LiteLLM's proxy, a peer of `pycodex serve` (bench/serve_bench.py) -------------------------


@contextmanager
def litellm_proxy(root: Path, downstream: str, workers: int) -> Iterator[tuple[str, int]]:
    """LiteLLM's proxy in front of `downstream` (a Chat Completions base URL): (base URL, pid).

    Installed once per bench run into `<root>/litellm-venv` (`PYCODEX_BENCH_LITELLM_VENV` names
    an existing venv to reuse instead). The model is a `custom_openai/` deployment, for which
    the proxy answers `/v1/responses` by translating to `/chat/completions`, as `pycodex serve`
    does. Its start-up network calls are off (the model cost map is read from the package,
    telemetry disabled) and it gets the same dead proxy as the agent peers.
    """
    venv = _litellm_venv(root)
    config = root / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params:\n"
        "      model: custom_openai/m\n"
        f"      api_base: {downstream}\n"
        f"      api_key: {API_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
        "  drop_params: true\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n",
        encoding="utf-8",
    )
    port = _free_port()
    home = root / f"litellm-home-{workers}"
    home.mkdir()
    env = _peer_env(home)
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False")
    log = root / f"litellm-{workers}.log"
    argv = [str(venv / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--num_workers", str(workers)]
    with open(log, "w") as errors:
        proc = subprocess.Popen(argv, cwd=root, env=env, stdout=errors, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/health/liveliness", proc, log)
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        stop(proc)


def _litellm_venv(root: Path) -> Path:
    reuse = os.environ.get("PYCODEX_BENCH_LITELLM_VENV")
    if reuse:
        return Path(reuse)
    venv = root / "litellm-venv"
    if not (venv / "bin" / "litellm").exists():
        print("  installing litellm[proxy]...", file=sys.stderr, flush=True)
        python_venv(venv, LITELLM_REQUIREMENT)
    return venv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + LITELLM_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with opener.open(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    tail = " / ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    raise PeerError(f"LiteLLM's proxy did not come up: {tail[:300]}")


def _install(root: Path, name: str, make: Callable[[Agent, Path], None]) -> Agent:
    """A peer's agent with its home and environment; `make` installs it and sets the rest."""
    print(f"  installing {name}...", file=sys.stderr, flush=True)
    home = _home(root, name.replace(" ", "-"))
    agent = Agent(name, [], home, _peer_env(home))
    try:
        make(agent, root)
    except PeerError as exc:
        agent.notes.append(f"install failed: {exc}")
    return agent


def _install_step(args: list[str]) -> None:
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerError(f"{Path(args[0]).name}: {exc}") from exc
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])[:300]
        raise PeerError(f"{' '.join(Path(a).name for a in args[:3])}: {tail}")


def _version(args: list[str], env: dict[str, str]) -> str:
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"  # the run itself will say what is wrong
    return done.stdout.strip().split()[-1] if done.stdout.strip() else "?"


# -- scenarios ---------------------------------------------------------------------------------


def _measure(agent: Agent, server: Any) -> None:
    print(f"  measuring {agent.name}...", file=sys.stderr, flush=True)
    try:
        tool = _startup(agent, server)
        if not agent.loop:
            return
        if tool is None:
            agent.notes.append("no command tool (exec_command/shell_command/shell) advertised")
            return
        _loop(agent, server, *tool)
    except PeerError as exc:
        agent.notes.append(str(exc))
    if server.errors:
        agent.notes.append(f"unexpected requests: {'; '.join(server.errors)[:300]}")


def _one_request(agent: Agent, server: Any) -> tuple[float, dict[str, Any]]:
    from support import sse_builders as sse

    before = len(server.requests)
    server.expect_sse("/v1/responses", sse.assistant_reply("ok"))
    elapsed = agent.run("hi", STARTUP_TIMEOUT_S)
    requests = server.requests[before:]
    model_calls = [r for r in requests if r.path_without_query.endswith("/responses")]
    if len(model_calls) != 1:
        raise PeerError(f"expected one model request, got {[str(r) for r in requests]}")
    return elapsed, model_calls[0].json()


def _startup(agent: Agent, server: Any) -> tuple[str, str] | None:
    _elapsed, body = _one_request(agent, server)  # the warm-up
    samples = [_one_request(agent, server)[0] for _ in range(STARTUP_RUNS)]
    agent.startup_s = statistics.median(samples)
    return _command_tool(body)


def _command_tool(body: dict[str, Any]) -> tuple[str, str] | None:
    """The command-running tool the request advertises, and arguments that run `true`."""
    tools = {t.get("name"): t for t in body.get("tools", []) if t.get("type") == "function"}
    for name, key, value in (
        ("exec_command", "cmd", "true"),
        ("shell_command", "command", "true"),
        ("shell", "command", ["true"]),
    ):
        if name in tools:
            properties = (tools[name].get("parameters") or {}).get("properties") or {}
            arguments: dict[str, Any] = {key: value}
            if "login" in properties:
                arguments["login"] = False
            return name, json.dumps(arguments)
    return None


def _loop(agent: Agent, server: Any, tool: str, arguments: str) -> None:
    from support import sse_builders as sse

    samples = []
    for _ in range(LOOP_RUNS):
        before = len(server.requests)
        for index in range(ITERATIONS):
            call = sse.function_call(tool, arguments, call_id=f"call_{index}", id=f"fc_{index}")
            server.expect_sse("/v1/responses", sse.tool_calls(call, response_id=f"resp_{index}"))
        server.expect_sse("/v1/responses", sse.assistant_reply("done"))
        samples.append(agent.run("loop", LOOP_TIMEOUT_S))
        requests = server.requests[before:]
        if server.pending_scripts():
            raise PeerError(f"tool loop stopped after {len(requests)} of {ITERATIONS + 1} requests")
        outputs = [
            item
            for item in requests[-1].json().get("input", [])
            if isinstance(item, dict) and item.get("type") == "function_call_output"
        ]
        if len(outputs) != ITERATIONS:
            raise PeerError(f"last request carried {len(outputs)} of {ITERATIONS} tool outputs")
    agent.loop_s = statistics.median(samples)
    agent.notes.append(f"tool `{tool}` {arguments}")


# -- report ------------------------------------------------------------------------------------


def _report(table: Table, agents: list[Agent]) -> None:
    ours = agents[0]
    for agent in agents:
        name = f"peers: start-up, {agent.label}"
        if agent.startup_s is None:
            failed = "not installed" if agent.notes[0].startswith("install") else "failed"
            table.add(name, failed, "; ".join(agent.notes))
            continue
        ratio = ""
        if agent is not ours and ours.startup_s is not None:
            ratio = f"pycodex/peer {ours.startup_s / agent.startup_s:.2f}x; "
        table.add(
            name,
            f"{agent.startup_s * 1000:.0f} ms",
            f"{ratio}one-request exec, whole process, median of {STARTUP_RUNS}",
        )
    ours_per = ours.per_iteration_s
    for agent in agents:
        name = f"peers: {ITERATIONS} tool round trips, {agent.label}"
        per = agent.per_iteration_s
        if agent.loop_s is None or per is None:
            if agent.startup_s is not None and agent.loop:  # else: reported above, or no loop
                table.add(name, "failed", "; ".join(agent.notes))
            continue
        note = f"{per * 1000:.1f} ms/iteration"
        if agent is not ours and ours_per is not None:
            note += f" (pycodex/peer {ours_per / per:.2f}x)"
        note += f"; median of {LOOP_RUNS}; {'; '.join(agent.notes)}"
        table.add(name, f"{agent.loop_s:.2f} s", note)
