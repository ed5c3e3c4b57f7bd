"""Suite-wide fixtures.

Test helpers live in `tests/support` and are imported as the top-level package `support`, e.g.
`from support.fake_server import FakeModelServer` and `from support.sse_builders import
assistant_reply`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

# pytest's default (prepend) import mode already puts tests/ on sys.path for this conftest; doing
# it here too keeps `support` importable under --import-mode=importlib.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.fake_server import FakeModelServer  # noqa: E402

_PASSED = pytest.StashKey[bool]()
SLOW_TESTS_ENV = "PYCODEX_SLOW_TESTS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (real peers such as a Ray cluster) run when PYCODEX_SLOW_TESTS=1,
    as in CI (`.ci/run`); the default suite stays fast."""
    if os.environ.get(SLOW_TESTS_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow: set {SLOW_TESTS_ENV}=1 to run it")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_PASSED] = report.passed
    return report


@pytest.fixture
def fake_server(request: pytest.FixtureRequest) -> Iterator[FakeModelServer]:
    """A started `FakeModelServer`; at teardown of a passing test, no surprises may remain."""
    server = FakeModelServer().start()
    try:
        yield server
    finally:
        server.close()
    if request.node.stash.get(_PASSED, False):
        server.assert_done()


@pytest.fixture(autouse=True, scope="session")
def _no_repository_above_the_temp_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests must not depend on where the temporary directories live: a stray `.git` above them
    (in /tmp, say) would make every test directory look like part of a repository. git and
    pycodex (exec's repository check, the project-root search) stop at
    `GIT_CEILING_DIRECTORIES`, which CLI subprocesses inherit."""
    previous = os.environ.get("GIT_CEILING_DIRECTORIES")
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path_factory.getbasetemp())
    yield
    if previous is None:
        del os.environ["GIT_CEILING_DIRECTORIES"]
    else:
        os.environ["GIT_CEILING_DIRECTORIES"] = previous


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request in the suite goes to 127.0.0.1 directly, whatever the developer's shell has
    (the HTTP client reads proxies from the environment; CLI subprocesses inherit it)."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
