"""The early sandbox probe of `pycodex exec`: when it starts, and that it agrees with a direct probe."""

from __future__ import annotations

import pytest

from pycodex.cli import sandbox_probe
from pycodex.execution.sandbox import sandbox_status


@pytest.mark.parametrize(
    "argv",
    [
        ["--yolo", "hi"],
        ["--dangerously-bypass-approvals-and-sandbox", "hi"],
        ["-s", "danger-full-access", "hi"],
        ["--sandbox", "danger-full-access", "hi"],
        ["--sandbox=danger-full-access", "hi"],
        ["-sdanger-full-access", "hi"],
    ],
)
def test_flags_that_turn_the_sandbox_off_skip_the_probe(argv: list[str]) -> None:
    assert sandbox_probe._bypasses_sandbox(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["hi"],
        ["-s", "read-only", "hi"],
        ["--full-auto", "hi"],
        ["--", "--yolo"],  # after `--` it is prompt text, not a flag
        ["-s"],
    ],
)
def test_other_command_lines_probe(argv: list[str]) -> None:
    assert not sandbox_probe._bypasses_sandbox(argv)


def test_the_background_probe_gives_the_cached_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_probe._Probe, "thread", None)
    sandbox_probe.start_early(["hi"])
    thread = sandbox_probe._Probe.thread
    assert thread is not None
    assert sandbox_probe.current_status() is sandbox_status()
    assert not thread.is_alive()
