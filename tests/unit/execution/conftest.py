"""Fixtures for the execution tests (the helpers themselves are in `execution_helpers`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from execution_helpers import ControlFifo, ExitWatch


@pytest.fixture
def exit_watch() -> Iterator[ExitWatch]:
    watch = ExitWatch()
    yield watch
    watch.close()


@pytest.fixture
def control_fifo(tmp_path: Path) -> Iterator[ControlFifo]:
    fifo = ControlFifo(tmp_path / "control.fifo")
    yield fifo
    fifo.close()
