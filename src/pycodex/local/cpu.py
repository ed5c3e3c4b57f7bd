"""The processor: which instruction sets llama.cpp may use, and how many threads pay off.

Instruction sets. A build with `-march=native` enables AMX on CPUs that advertise it, and on a VM
that advertises AMX without the hypervisor backing it the AMX matmul dies with a general
protection fault at model load. llama.cpp's runtime dispatch (`GGML_CPU_ALL_VARIANTS`) does not
help: its variant scoring trusts CPUID and would pick the AMX variant on the same VM. So on x86
Linux the build names its instruction sets explicitly, from `/proc/cpuinfo`, and never AMX; the
set is recorded with the build, and a CPU that lacks one of them gets a fresh build. Other systems
build with `GGML_NATIVE` (AMX exists only on x86).

Threads. On a shared 2-core VM, `-t 2` generated 13x slower than `-t 1`: a llama.cpp thread that
loses its core stalls the others at every barrier, while one thread too few costs at most the
share of one core. So the count comes from the machine's state, not its core count: only cores
left over by the load average (what else ran in the last minute) are candidates, and of those a
short measurement keeps N only if a fixed busy loop run in N processes at once ran nearly as fast
in each as alone.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# /proc/cpuinfo flag → ggml CMake option; AVX512 needs all five of its base flags.
_X86_FLAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SSE42", ("sse4_2",)),
    ("AVX", ("avx",)),
    ("F16C", ("f16c",)),
    ("FMA", ("fma",)),
    ("BMI2", ("bmi2",)),
    ("AVX2", ("avx2",)),
    ("AVX_VNNI", ("avx_vnni",)),
    ("AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")),
    ("AVX512_VBMI", ("avx512vbmi",)),
    ("AVX512_VNNI", ("avx512_vnni",)),
    ("AVX512_BF16", ("avx512_bf16",)),
)
_NEVER = ("AMX_TILE", "AMX_INT8", "AMX_BF16")

THREADS_ENV = "PYCODEX_LOCAL_THREADS"
# A process counts as having had its own core when it ran within this factor of the lone run.
_FAIR_SHARE = 1.35
_LOOP = (
    "import time\nt = time.perf_counter()\nx = 0\nfor i in range(1500000): x += i * i\n"
    "print(time.perf_counter() - t)"
)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """The CPU's feature flags on Linux x86, or None where they cannot be read."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
        return None
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return None


def ggml_features(flags: frozenset[str] | None) -> tuple[str, ...] | None:
    """The ggml instruction-set options to turn on, or None to build with GGML_NATIVE."""
    if flags is None:
        return None
    return tuple(name for name, needs in _X86_FLAGS if all(flag in flags for flag in needs))


def cmake_cpu_args(features: tuple[str, ...] | None) -> list[str]:
    if features is None:
        return ["-DGGML_NATIVE=ON"]
    known = [name for name, _ in _X86_FLAGS]
    args = ["-DGGML_NATIVE=OFF", "-DGGML_BACKEND_DL=OFF", "-DGGML_CPU_ALL_VARIANTS=OFF"]
    args += [f"-DGGML_{name}={'ON' if name in features else 'OFF'}" for name in known]
    args += [f"-DGGML_{name}=OFF" for name in _NEVER]
    return args


def unsupported(features: tuple[str, ...], flags: frozenset[str] | None) -> list[str]:
    """The recorded build features this CPU lacks (a build made elsewhere)."""
    if flags is None:
        return []
    have = set(ggml_features(flags) or ())
    return [name for name in features if name not in have]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose_threads(env: Mapping[str, str], limit: int = 4) -> int:
    """`$PYCODEX_LOCAL_THREADS` when set, else the measured count (see the module docstring)."""
    explicit = env.get(THREADS_ENV, "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    cores = min(available_cores(), limit)
    try:
        recent_load = os.getloadavg()[0]
    except OSError:
        recent_load = 0.0
    cores = min(cores, available_cores() - math.ceil(recent_load - 0.25))
    if cores <= 1:
        return 1
    alone = _timed_loops(1)
    if alone is None:
        return 1
    best = 1
    for count in range(2, cores + 1):
        together = _timed_loops(count)
        if together is None or max(together) > alone[0] * _FAIR_SHARE:
            break
        best = count
    return best


def _timed_loops(count: int) -> list[float] | None:
    """Run the busy loop in `count` processes at once; each reports its own loop time."""
    command = [sys.executable, "-S", "-E", "-c", _LOOP]
    try:
        children = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            for _ in range(count)
        ]
    except OSError:
        return None
    times: list[float] = []
    for child in children:
        out, _ = child.communicate()
        try:
            times.append(float(out.strip()))
        except ValueError:
            return None
    return times
