"""Timings of the grading pipeline on this machine, printed as a table.

  /usr/bin/python3 bench/bench.py [--labs 00,01] [--runs 5]

- VM ready: QEMU started until the agent answers, cold boot and from the
  snapshot; then with the 9p shares mounted and a first command run.
- Round trip: one agent request (a file read) and one program run: busybox's
  static /bin/true, and the host's dynamic /usr/bin/true over 9p (why the
  guest's PATH puts busybox first).
- Grading: each lab's reference solution, and the whole submission, through
  the same path as `moulinette grade`, with where the time goes (start,
  build, cases); then the whole submission with `grade --jobs 2`.
- --class N: `grade-all --jobs 2` over N copies of the reference, as
  submissions an hour.
- --proofs: how long CI's steps after the harness tests take: `prove` (the
  hand-written mutants) and `mutate --sample 25` (generated ones); --full
  adds the full `mutate` run.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import cli, spec as specmod  # noqa: E402
from harness.backends import VMBackend, ensure_snapshot  # noqa: E402
from harness.vm.assets import ensure_assets  # noqa: E402
from harness.vm.qemu import Guest, kvm_usable  # noqa: E402


def median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s" + (f"  (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"
                                               if len(xs) > 1 else "")


def ready_times(runs: int, snapshot: Path | None) -> list[float]:
    assets = ensure_assets()
    times = []
    for _ in range(runs):
        with Guest(assets, {}, kvm=kvm_usable(assets)) as g:
            g.start(snapshot=snapshot)
            times.append(g.ready_after)
    return times


def first_command(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "sub").mkdir()
            (Path(tmp) / "out").mkdir()
            start = time.monotonic()
            b = VMBackend(Path(tmp) / "sub", Path(tmp) / "out")
            b.start()
            b.run(["/usr/bin/true"], timeout=10)
            times.append(time.monotonic() - start)
            b.close()
    return times


def round_trips(n: int) -> tuple[list[float], list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sub").mkdir()
        (Path(tmp) / "out").mkdir()
        b = VMBackend(Path(tmp) / "sub", Path(tmp) / "out")
        b.start()
        reads, runs, dynamic = [], [], []
        for _ in range(n):
            t = time.monotonic()
            b.read("/proc/uptime")
            reads.append(time.monotonic() - t)
            t = time.monotonic()
            b.run(["/bin/true"], timeout=10)
            runs.append(time.monotonic() - t)
            t = time.monotonic()
            b.run(["/usr/bin/true"], timeout=10)
            dynamic.append(time.monotonic() - t)
        b.close()
    return reads, runs, dynamic


def grading(labs: list[specmod.Lab]) -> list[tuple[str, float, float, float, int, int]]:
    rows = []
    for lab in labs:
        t = time.monotonic()
        data = cli.run_cases(specmod.SOLUTIONS_DIR, [lab])
        total = time.monotonic() - t
        l = data["labs"][lab.name]
        build = l["build"]["seconds"]
        cases = sum(c["seconds"] for c in l["cases"].values())
        passed = sum(c["status"] == "passed" for c in l["cases"].values())
        rows.append((lab.name, total, build, cases, passed, len(l["cases"])))
    return rows


def timed(argv: list[str]) -> tuple[float, int]:
    """Runs `moulinette ARGV` quietly; returns (seconds, exit status)."""
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness", *argv], cwd=specmod.ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t, proc.returncode


def class_rate(n: int) -> tuple[float, int]:
    """grade-all --jobs 2 over n copies of the reference: (seconds, exit status)."""
    with tempfile.TemporaryDirectory(prefix="labs-bench-class-") as tmp:
        for i in range(n):
            shutil.copytree(specmod.SOLUTIONS_DIR, Path(tmp) / "class" / f"student{i:02d}",
                            ignore=shutil.ignore_patterns("alternatives"))
        return timed(["grade-all", str(Path(tmp) / "class"), "--jobs", "2", "--report", str(Path(tmp) / "out")])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labs")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--class", dest="klass", type=int, metavar="N", help="also time grade-all over N submissions")
    p.add_argument("--proofs", action="store_true", help="also time prove and mutate --sample 25")
    p.add_argument("--full", action="store_true", help="with --proofs, the full mutate run too")
    args = p.parse_args()
    assets = ensure_assets()
    snapshot = ensure_snapshot(assets)
    print(f"machine: {'KVM' if kvm_usable(assets) else 'TCG (no usable KVM)'}, "
          f"snapshot {'present' if snapshot.exists() else 'missing'}")
    print(f"VM ready, cold boot          {median(ready_times(max(3, args.runs // 2), None))}")
    print(f"VM ready, from snapshot      {median(ready_times(args.runs, snapshot))}")
    print(f"  + shares, first command    {median(first_command(args.runs))}")
    reads, runs, dynamic = round_trips(20)
    print(f"round trip, agent request    {median(reads)}")
    print(f"round trip, run /bin/true    {median(runs)}  (busybox, static)")
    print(f"round trip, run /usr/bin/true {median(dynamic)}  (the host's, dynamic, over 9p)")
    labs = specmod.select(args.labs)
    print("\ngrading the reference, one lab at a time (each in a fresh guest):")
    print(f"  {'lab':<16} {'total':>7} {'build':>7} {'cases':>7}  passed")
    rows = grading(labs)
    for name, total, build, cases, passed, n in rows:
        print(f"  {name:<16} {total:6.1f}s {build:6.1f}s {cases:6.1f}s  {passed}/{n}")
    t = time.monotonic()
    data = cli.run_cases(specmod.SOLUTIONS_DIR, labs)
    whole = time.monotonic() - t
    ok = all(c["status"] == "passed" for l in data["labs"].values() for c in l["cases"].values())
    print(f"\nwhole submission ({len(labs)} labs, one guest): {whole:.1f} s"
          f"{'' if ok else '  (some cases did not pass!)'}")
    labs_opt = ["--labs", args.labs] if args.labs else []
    seconds, rc = timed(["grade", str(specmod.SOLUTIONS_DIR), *labs_opt, "--jobs", "2", "-q"])
    print(f"whole submission, grade --jobs 2 (two guests): {seconds:.1f} s (exit {rc})")
    if args.klass:
        seconds, rc = class_rate(args.klass)
        print(f"\nclass of {args.klass}, grade-all --jobs 2: {seconds:.0f} s, "
              f"{args.klass * 3600 / seconds:.0f} submissions an hour (exit {rc})")
    if args.proofs:
        print()
        steps = [("prove (reference, alternatives, skeleton, hand-written mutants)", ["prove"]),
                 ("mutate --sample 25 (as CI)", ["mutate", "--sample", "25"])]
        if args.full:
            steps.append(("mutate, full", ["mutate"]))
        for what, argv in steps:
            seconds, rc = timed([*argv, *labs_opt, "--jobs", "2"])
            print(f"{what}: {seconds / 60:.1f} min (exit {rc})")


if __name__ == "__main__":
    main()
