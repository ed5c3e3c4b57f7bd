"""What the REPL shows for an approval request: the rule an "always" would save, or why none."""

from __future__ import annotations

from pathlib import Path

from pycodex.frontends.repl.approvals import request_text
from pycodex.protocol import events as ev


def _request(prefix: tuple[str, ...]) -> ev.ExecApprovalRequest:
    return ev.ExecApprovalRequest("c1", "bash -lc 'npm run build'", Path("/w"), None, prefix, True)


def test_the_prefix_an_always_would_save_is_shown() -> None:
    text = request_text(_request(("npm", "run")))
    assert "'always' allows commands starting with: npm run" in text


def test_a_command_no_rule_can_cover_says_so() -> None:
    text = request_text(_request(()))
    assert "no rule can cover it: any yes allows it once" in text
    assert "'always' allows" not in text
