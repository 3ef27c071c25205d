#!/usr/bin/env python3
"""Run every benchmark and write benchmarks/results/latest.{json,md}.

    python benchmarks/run.py            # the full suite, about 5 minutes
    python benchmarks/run.py --quick    # small sizes, short runs: under 2 minutes (CI smoke test)
    python benchmarks/run.py --only login cold_start

``--quick`` writes results/quick.{json,md} and ``--only`` results/only-<sections>.{json,md}
instead, so the table of the last complete run stays. Each figure is printed as it is measured, with its baseline from the same run,
the ratio and ✓/✗ against its target. Nothing asserts: on a shared machine a
missed target is information, not a failure (the exit status is 1 only when a
section could not run at all, e.g. a server that does not start). Everything runs on 127.0.0.1, in
a temporary directory under /tmp that is removed at the end.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Sample, machine_description, write_results  # noqa: E402

# In the order they run: the cheap ones first, so a CI failure shows early.
SECTIONS = ["cold_start", "small_requests", "login", "login_burst", "transfers", "tus_upload", "concurrent_uploads",
            "file_list_scaling", "operators", "account_security", "folders_scaling",
            "sharing"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (CI smoke test)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    machine = machine_description()
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}, "
          f"Python {machine['python']}, waitress {machine['versions']['waitress']}; "
          f"load {machine['load_average_at_start']}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="authupload-bench-", dir="/tmp"))
    figures: list[Figure] = []
    ran, broken = [], []
    try:
        for name in args.only or SECTIONS:
            module = importlib.import_module(name)
            try:
                section_dir = workdir / name
                section_dir.mkdir()
                figures += module.run(section_dir, args.quick)
                ran.append(name)
            except Exception as error:  # one broken section must not hide the others' figures
                traceback.print_exc()
                broken.append(name)
                figures.append(Figure(f"{name}: not measured", "", Sample([]),
                                      note=f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"))
            finally:
                if not args.keep:
                    shutil.rmtree(workdir / name, ignore_errors=True)  # 1 GiB files go as soon as possible
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    settings = {
        "command": "python benchmarks/run.py" + (" --quick" if args.quick else "")
                   + (f" --only {' '.join(args.only)}" if args.only else ""),
        "mode": "quick" if args.quick else "full",
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": time.monotonic() - started,
    }
    # A partial or quick run must not overwrite the table of the last complete one.
    if args.only:
        stem = "only-" + "-".join(args.only) + ("-quick" if args.quick else "")
    else:
        stem = "quick" if args.quick else "latest"
    markdown = write_results(figures, machine, settings, ran, stem)
    met = [f for f in figures if f.met is True]
    missed = [f for f in figures if f.met is False]
    print(f"\n{len(met)} targets met, {len(missed)} missed"
          + (": " + "; ".join(f.name for f in missed) if missed else "")
          + f". {settings['seconds']:.0f} s. Table: {markdown}")
    if broken:
        print(f"sections that failed to run: {', '.join(broken)}")
    return 1 if broken else 0  # a broken benchmark fails CI; a missed target never does


if __name__ == "__main__":
    sys.exit(main())
