"""moulinette: grade lab submissions inside a throwaway VM.

  moulinette grade SUBMISSION [--labs 00,01] [--backend vm|host] [--report DIR]
  moulinette grade-all CLASS --report DIR [--jobs 2]
                                      every student of a class; gradebook.csv; resumable
  moulinette check [LAB]              public cases of one lab, from its folder
  moulinette prove [--labs 00,01]     reference and alternatives 100/100, skeleton
                                      failing, every mutant caught: the kill matrix
  moulinette mutate [--labs 00,01]    generated mutants: mutation score against the baselines
  moulinette spec-check               every spec checked, nothing run
  moulinette vm                       build the VM's kernel, initramfs and snapshot

Exit status: 0 every lab passed, 1 some lab failed, 2 bad usage or spec,
3 the grading machine failed (nothing is held against the submission).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from . import reports, scoring
from . import spec as specmod
from .errors import InfraError

ROOT = specmod.ROOT
EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INFRA = 0, 1, 2, 3


def run_cases(submission: Path, labs: list[specmod.Lab], backend: str = "vm",
              visibility: str = "all", variants: dict[str, Path] | None = None,
              progress: bool = False, stop_on_fail: bool = False, batch: str | None = None,
              timeouts: str | None = None, claims: str | None = None) -> dict:
    """Runs the labs' cases through pytest; returns the plugin's outcomes."""
    import pytest
    files = [str(lab.test_file(v)) for lab in labs for v in specmod.VISIBILITIES
             if (visibility == "all" or v == "public") and lab.test_file(v).exists()]
    with tempfile.TemporaryDirectory(prefix="labs-outcomes-") as tmp:
        out = Path(tmp) / "outcomes.json"
        args = [*files, "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT),
                "-p", "no:cacheprovider", "-p", "no:terminal",
                "--submission", str(submission), "--backend", backend,
                "--visibility", visibility, "--outcomes", str(out)]
        for lab_name, path in (variants or {}).items():
            args += ["--variant", f"{lab_name}={path}"]
        if progress:
            args.append("--progress")
        if stop_on_fail:
            args.append("--stop-on-fail")
        if batch:
            args += ["--batch", batch]
        if timeouts:
            args += ["--timeouts", timeouts]
        if claims:
            args += ["--claims", claims]
        code = pytest.main(args)
        if not out.exists():
            raise InfraError(f"the case runner stopped early (pytest exit code {int(code)})")
        return json.loads(out.read_text())


def run_cases_parallel(submission: Path, labs: list[specmod.Lab], jobs: int, backend: str = "vm",
                       visibility: str = "all") -> dict:
    """The labs shared by `jobs` child processes, each with its own guest:
    each takes the next lab nobody has claimed (see the plugin's --claims),
    so that one that drew long labs is not left working alone.  Their
    outcomes are merged as if from one run."""
    from . import children
    names = ",".join(l.name for l in labs)
    with tempfile.TemporaryDirectory(prefix="labs-claims-") as claims:
        parts = children.outcomes([[str(submission), "--labs", names, "--backend", backend,
                                    "--visibility", visibility, "--claims", claims]
                                   for _ in range(min(jobs, len(labs)))], jobs)
    if any(p is None for p in parts):
        raise InfraError("a grading process stopped early (its output is above)")
    merged = {**parts[0], "labs": {}, "seconds": max(p["seconds"] for p in parts),
              "machine": {"boots": sum(p["machine"]["boots"] for p in parts),
                          "ready_seconds": [t for p in parts for t in p["machine"]["ready_seconds"]]}}
    for p in parts:
        merged["labs"].update(p["labs"])
    missing = [l.name for l in labs if l.name not in merged["labs"]]
    if missing:
        raise InfraError(f"no grading process graded {', '.join(missing)}")
    return merged


def grade(submission: Path, labs: list[specmod.Lab], jobs: int = 1, **kw) -> scoring.Report:
    if jobs > 1 and len(labs) > 1:
        data = run_cases_parallel(submission, labs, jobs, kw.get("backend", "vm"), kw.get("visibility", "all"))
    else:
        data = run_cases(submission, labs, **kw)
    return scoring.score(labs, data)


def _check_specs(labs: list[specmod.Lab]) -> list[str]:
    return [e for lab in labs for e in specmod.check(lab)]


class UsageError(Exception):
    """Bad input on the command line: said on stderr, exit status 2."""


def _gradable(folder: Path, names: str | None) -> list[specmod.Lab]:
    """The labs to grade, once the folder exists and their specs are sound."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    labs = specmod.select(names)
    errors = [e for lab in labs for e in specmod.check(lab, with_mutants=False)]
    if errors:
        raise UsageError("the spec is not gradable:\n  " + "\n  ".join(errors))
    return labs


def cmd_grade(args) -> int:
    submission = Path(args.submission)
    labs = _gradable(submission, args.labs)
    if not args.quiet:
        print(f"grading {submission} ({', '.join(l.name for l in labs)}) on the {args.backend} backend",
              file=sys.stderr)
    report = grade(submission, labs, jobs=args.jobs, backend=args.backend, visibility=args.visibility,
                   progress=not args.quiet and args.jobs == 1)
    if args.report:
        reports.write(report, Path(args.report))
    if args.json:
        print(json.dumps(reports.gradescope(report), indent=1))
    else:
        print(reports.text(report, verbose=not args.quiet))
    return EXIT_INFRA if report.infra else (EXIT_PASS if report.passed else EXIT_FAIL)


def cmd_grade_all(args) -> int:
    from . import classroom
    folder = Path(args.folder)
    labs = _gradable(folder, args.labs)
    rows = classroom.grade_all(folder, Path(args.report), labs, jobs=args.jobs, backend=args.backend)
    counts = {v: sum(r.verdict == v for r in rows) for v in ("PASS", "FAIL", "INFRA")}
    print(f"grade-all: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['INFRA']} to grade again "
          f"(infrastructure); gradebook: {Path(args.report) / 'gradebook.csv'}")
    return EXIT_INFRA if counts["INFRA"] else EXIT_PASS


def cmd_check(args) -> int:
    """A student's loop: the public cases of the lab whose folder we are in."""
    here = Path.cwd().resolve()
    lab = specmod.load(args.lab or here.name)
    if args.submission:
        submission = Path(args.submission)
    elif here.name == lab.name:
        submission = here.parent
    else:
        submission = specmod.LABS_DIR
    args.submission, args.labs, args.visibility = str(submission), lab.name, "public"
    args.report, args.json, args.jobs = None, False, 1
    return cmd_grade(args)


def cmd_spec_check(args) -> int:
    errors = _check_specs(specmod.select(args.labs))
    for e in errors:
        print(e)
    print(f"spec-check: {len(errors)} problem(s)" if errors else "spec-check: every spec is gradable")
    return EXIT_USAGE if errors else EXIT_PASS


def cmd_outcomes(args) -> int:
    """Internal: run one submission's cases and write the raw outcomes (for prove)."""
    variants = dict(v.split("=", 1) for v in args.variant)
    data = run_cases(Path(args.submission), specmod.select(args.labs), backend=args.backend,
                     visibility=args.visibility, variants=variants, stop_on_fail=args.stop_on_fail,
                     batch=args.batch, timeouts=args.timeouts, claims=args.claims)
    Path(args.out).write_text(json.dumps(data))
    return EXIT_PASS


def cmd_prove(args) -> int:
    from . import prove
    labs = specmod.select(args.labs)
    errors = _check_specs(labs)
    if errors:
        print("moulinette prove: the spec is not gradable:\n  " + "\n  ".join(errors), file=sys.stderr)
        return EXIT_USAGE
    print(f"proving {', '.join(l.name for l in labs)} on the {args.backend} backend, {args.jobs} at a time")
    verdicts = prove.prove(labs, backend=args.backend, jobs=args.jobs)
    for lab in labs:
        matrix = prove.kill_matrix(lab, verdicts)
        if matrix:
            print("\n" + matrix)
    bad = [v for v in verdicts if not v.ok]
    print(f"\nprove: {len(verdicts) - len(bad)}/{len(verdicts)} variants as expected"
          + ("" if not bad else "; wrong: " + ", ".join(f"{v.variant.lab.name}/{v.variant.name}" for v in bad)))
    if any(v.score and v.score.infra for v in verdicts):
        return EXIT_INFRA
    return EXIT_FAIL if bad else EXIT_PASS


def cmd_mutate(args) -> int:
    """Generated mutants of every lab, graded; scores against the baselines."""
    from . import mutation
    labs = specmod.select(args.labs)
    only = {lab.name: mutation.baseline_survivors(lab) for lab in labs} if args.survivors else None
    if args.sample is not None and args.survivors:
        print("moulinette: --sample and --survivors each grade a part of the mutants: one or the other",
              file=sys.stderr)
        return EXIT_USAGE
    results = mutation.run(labs, backend=args.backend, jobs=args.jobs, only=only, sample=args.sample)
    if args.survivors:
        for r in results:
            print(f"\n{r.lab.name}: of the baseline's {len(only[r.lab.name])} survivors, {len(r.killed)} are "
                  f"killed now, {len(r.equivalent)} listed as equivalent, {len(r.survivors)} survive:")
            for m in r.survivors:
                print(f"  survivor {m.id}\n" + "".join("    " + line for line in m.diff.splitlines(True)))
        print("\nmutate --survivors grades the baseline's survivors only: run mutate once more, in full, "
              "before writing a baseline")
        return EXIT_PASS
    problems = []
    for r in results:
        if r.sampled:
            print(f"\n{r.lab.name}: a fixed sample of {len({m.digest for m in r.valid})} of its {r.distinct} "
                  f"distinct mutants: {len(r.killed)} killed of {len(r.valid)}")
        else:
            print(f"\n{r.lab.name}: {len(r.killed)} killed of {len(r.valid) - len(r.equivalent)} "
                  f"({len(r.equivalent)} listed as equivalent): mutation score {r.score:.1%}"
                  + ("" if r.score >= 0.9 else " - below the 90% target"))
        for m in r.survivors:
            print(f"  survivor {m.id}\n" + "".join("    " + line for line in m.diff.splitlines(True)))
        for mid in r.unknown:
            problems.append(f"{r.lab.name}: {mid} could not be graded (infrastructure)")
        if args.update_baseline:
            mutation.write_baseline(r)
            print(f"  baseline written: {mutation.baseline_path(r.lab).relative_to(ROOT)}"
                  + (" (from the sample only: a full run is the lab's real measure)" if r.sampled else ""))
        else:
            problems += mutation.compare_with_baseline(r)
    for p in problems:
        print("mutate: " + p)
    print(f"\nmutate: {sum(len(r.valid) for r in results)} valid mutants graded; "
          + ("no regression" if not problems else f"{len(problems)} problem(s)"))
    return EXIT_FAIL if problems else EXIT_PASS


def cmd_new_mutant(args) -> int:
    """Writes mutants/LAB/NAME.patch from an edited copy of a reference file."""
    from . import patches
    lab = specmod.load(args.lab)
    edited = Path(args.edited)
    reference = specmod.SOLUTIONS_DIR / lab.name / (args.file or edited.name)
    if not reference.exists():
        print(f"moulinette: no reference {reference} (name it with --file)", file=sys.stderr)
        return EXIT_USAGE
    target = specmod.MUTANTS_DIR / lab.name / f"{args.name}.patch"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(patches.make(args.name, reference, edited))
    print(f"wrote {target.relative_to(ROOT)}: fill in its comment, then declare it in "
          f"spec/{lab.name}/spec.toml ([[mutant]] file and kills)")
    return EXIT_PASS


def cmd_bundle(args) -> int:
    from . import bundle
    dest = bundle.build(Path(args.dest))
    print(f"student bundle: {dest} (labs, public cases, harness, docs; nothing private)")
    return EXIT_PASS


def cmd_vm(args) -> int:
    from .backends import ensure_snapshot
    from .vm.assets import ensure_assets
    assets = ensure_assets()
    snapshot = ensure_snapshot(assets)
    print(f"kernel   {assets.kernel}\ninitrd   {assets.initrd}\nsnapshot {snapshot}"
          f"{'' if snapshot.exists() else ' (could not be made: guests boot cold)'}")
    return EXIT_PASS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="moulinette", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--backend", choices=["vm", "host"], default=os.environ.get("LABS_BACKEND", "vm"),
                        help="where cases run (default vm: a throwaway QEMU guest)")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress, no failure details")

    g = sub.add_parser("grade", help="grade a submission")
    g.add_argument("submission")
    g.add_argument("--labs", help="comma list, e.g. 00,01 (default: all)")
    g.add_argument("--report", help="write results.json, junit.xml and report.txt here")
    g.add_argument("--visibility", choices=["public", "all"], default="all")
    g.add_argument("--json", action="store_true", help="print results.json instead of the table")
    g.add_argument("--jobs", type=int, default=1, help="guests grading its labs at once")
    common(g)
    g.set_defaults(func=cmd_grade)

    ga = sub.add_parser("grade-all", help="grade every submission of a class folder")
    ga.add_argument("folder", help="one folder (or git checkout) per student")
    ga.add_argument("--report", required=True, help="where each student's reports and gradebook.csv go")
    ga.add_argument("--labs", help="comma list (default: all)")
    ga.add_argument("--jobs", type=int, default=2, help="students graded at once (one VM each)")
    ga.add_argument("--backend", choices=["vm", "host"], default=os.environ.get("LABS_BACKEND", "vm"))
    ga.set_defaults(func=cmd_grade_all)

    c = sub.add_parser("check", help="public cases of one lab (run from the lab's folder)")
    c.add_argument("lab", nargs="?")
    c.add_argument("--submission", help="default: the folder above the lab's")
    common(c)
    c.set_defaults(func=cmd_check)

    pr = sub.add_parser("prove", help="prove the cases: reference, alternatives, skeleton, mutants")
    pr.add_argument("--labs")
    pr.add_argument("--jobs", type=int, default=2, help="variants graded at once (one VM each)")
    pr.add_argument("--backend", choices=["vm", "host"], default=os.environ.get("LABS_BACKEND", "vm"))
    pr.set_defaults(func=cmd_prove)

    mu = sub.add_parser("mutate", help="generated mutants: mutation score per lab, against the baselines")
    mu.add_argument("--labs")
    mu.add_argument("--jobs", type=int, default=2, help="VMs grading at once")
    mu.add_argument("--backend", choices=["vm", "host"], default=os.environ.get("LABS_BACKEND", "vm"))
    mu.add_argument("--update-baseline", action="store_true",
                    help="write each lab's score and survivors as its new baseline")
    mu.add_argument("--survivors", action="store_true",
                    help="grade only the baseline's survivors (a quick check while sharpening cases)")
    mu.add_argument("--sample", type=int, metavar="N",
                    help="grade a fixed sample of N distinct mutants per lab: every one the baseline "
                         "counts as killed must still be killed (CI's bounded run)")
    mu.set_defaults(func=cmd_mutate)

    o = sub.add_parser("outcomes")  # internal, for prove and mutate
    o.add_argument("submission")
    o.add_argument("--labs")
    o.add_argument("--variant", action="append", default=[])
    o.add_argument("--backend", default="vm")
    o.add_argument("--visibility", default="all")
    o.add_argument("--out", required=True)
    o.add_argument("--stop-on-fail", action="store_true")
    o.add_argument("--batch")
    o.add_argument("--timeouts")
    o.add_argument("--claims")
    o.set_defaults(func=cmd_outcomes)

    s = sub.add_parser("spec-check", help="check every spec, run nothing")
    s.add_argument("--labs")
    s.set_defaults(func=cmd_spec_check)

    nm = sub.add_parser("new-mutant", help="make mutants/LAB/NAME.patch from an edited reference")
    nm.add_argument("lab")
    nm.add_argument("name")
    nm.add_argument("edited", help="an edited copy of the reference file")
    nm.add_argument("--file", help="which reference file it edits (default: same name)")
    nm.set_defaults(func=cmd_new_mutant)

    b = sub.add_parser("bundle", help="build what students get into DEST")
    b.add_argument("dest")
    b.set_defaults(func=cmd_bundle)

    v = sub.add_parser("vm", help="build the VM assets and snapshot now")
    v.set_defaults(func=cmd_vm)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (specmod.SpecError, UsageError) as exc:
        print(f"moulinette: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InfraError as exc:
        print(f"moulinette: infrastructure failure (not the submission's fault): {exc}", file=sys.stderr)
        return EXIT_INFRA
    except KeyboardInterrupt:
        return 130
