"""python -m tests.benchmarks [--quick] [--only NAME ...]: one line per figure, exit 0 always.

Targets are reported as PASS or MISS, never asserted: machines are noisy, and a missed
target is a finding, not a failure of the run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback

BENCHMARKS = ("update_handling", "dispatch", "alert_latency", "flood", "scale", "group_limit")


def header(quick: bool) -> str:
    """The machine the figures come from, and how busy it was when they started."""
    load = " / ".join(f"{n:.1f}" for n in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"# benchmarks ({'quick' if quick else 'full'}) on {platform.node() or 'unknown host'}: "
        f"nproc={os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()} "
        f"{platform.machine()}, load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as the tests run PTB (before it is imported)
    print(header(args.quick), flush=True)
    began = time.perf_counter()
    for name in args.only or BENCHMARKS:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            for line in module.run(args.quick):
                print(line, flush=True)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc(file=sys.stderr)
            print(f"{name}: ERROR {type(exc).__name__}: {exc}", flush=True)
        print(f"# {name}: {time.perf_counter() - started:.1f} s", flush=True)
    print(f"# total: {time.perf_counter() - began:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
