"""The machine line of a benchmark: which CPU, NumPy, BLAS and kernel produced the figures.

Compare ratios, not milliseconds, across machines; this line says where the
milliseconds come from. It names the BLAS kernel that runs (threadpoolctl)
and says when OPENBLAS_CORETYPE forces one other than this CPU's own: a
forced older kernel (Haswell on an AVX-512 machine) makes products slower.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np

KERNEL_QUERY_TIMEOUT_S = 60  # a fresh Python importing NumPy: a second, or more on a loaded machine


def blas_description() -> str:
    """Name and version of the BLAS NumPy was built with."""
    try:
        config = np.show_config(mode="dicts")  # NumPy >= 1.25
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError, AttributeError):
        pass
    # Older NumPy 1.x: the build info is a dict per library.
    for key in ("blas_opt_info", "blas_ilp64_opt_info", "openblas_info", "blas_mkl_info"):
        info = getattr(np.__config__, key, None)
        if info:
            return ", ".join(info.get("libraries", [])) or key
    return "unknown"


def blas_runtime() -> list[dict]:
    """What threadpoolctl sees loaded: one dict per BLAS library (name, version, kernel, threads)."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [info for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]


def own_kernel() -> str | None:
    """The kernel OpenBLAS picks on this machine without OPENBLAS_CORETYPE (a fresh Python asks)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    code = (
        "import numpy, threadpoolctl; print(next((i.get('architecture') or '' for i in "
        "threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'), ''))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=KERNEL_QUERY_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def kernel_text(running: str, forced: str | None, own: str | None) -> str:
    """How the machine line names the kernel that runs, and whether OPENBLAS_CORETYPE forced it.

    `running` is threadpoolctl's architecture, `forced` the variable's value
    (None when unset), `own` the kernel a fresh Python picks without it.
    """
    if not forced:
        return f"{running} kernel, this CPU's own"
    if own and own.lower() != running.lower():
        return (
            f"{running} kernel FORCED by OPENBLAS_CORETYPE={forced} (this CPU's own is {own}: "
            "these figures understate the machine; rerun with the variable unset)"
        )
    return f"{running} kernel, this CPU's own {own or 'unknown'} (OPENBLAS_CORETYPE={forced} names it too)"


def blas_runtime_description() -> str:
    """The BLAS that actually runs, e.g. `openblas 0.3.31: Haswell kernel, this CPU's own, 2 threads`."""
    libraries = blas_runtime()
    if not libraries:
        return "runtime BLAS unknown (install threadpoolctl to see it)"
    parts = []
    for info in libraries:
        running = info.get("architecture") or "unknown"
        if info.get("internal_api") == "openblas":
            forced = os.environ.get("OPENBLAS_CORETYPE")
            kernel = kernel_text(running, forced, own_kernel() if forced else None)
        else:
            kernel = f"{running} kernel"
        threads = info.get("num_threads")
        parts.append(
            f"{info.get('internal_api', 'blas')} {info.get('version', '')}: "
            f"{kernel}, {threads} thread{'' if threads == 1 else 's'}"
        )
    return "; ".join(parts)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(torch, no_torch: str, load_before: float, load_after: float) -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    threads = [
        f"{k}={os.environ[k]}"
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    ]
    if torch is None:
        torch_text = no_torch
    else:
        backend = "MKL" if torch.backends.mkl.is_available() else "its own BLAS"
        torch_text = f"torch {torch.__version__} ({backend}, {torch.get_num_threads()} threads)"
    return (
        f"Machine: {cpu_model()}, {cores} cores ({usable} usable); Python {platform.python_version()}; "
        f"NumPy {np.__version__} with {blas_description()}, running {blas_runtime_description()}; {torch_text}; "
        f"threads: {', '.join(threads) or 'library defaults'}; "
        f"load average {load_before:.1f} at start, {load_after:.1f} at end."
    )
