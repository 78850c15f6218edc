"""The pytest plugin that turns spec/NN-name/test_*.py into graded cases.

It stages the submission, starts the grading machine (lazily, once), builds
each lab once, hands every case a `lab` fixture (see casekit.LabRun), and
records each case's outcome with the message a student will read.

Between cases it kills whatever the case started and compares the machine's
state with how it was before (mounts, links, named network namespaces,
cgroups, IPC objects, processes, hostname); a case that leaves the guest
dirty makes the next case run in a fresh guest.  A guest lost during a case
is replaced and the case run once more; lost twice, the case fails with the
reason.  A machine that cannot be started at all is an infrastructure
failure, reported apart from the student's results.

Used directly:  pytest spec/01-pid --submission DIR [--backend host] [--visibility public]
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from . import build as buildmod
from . import spec as specmod
from .backends import Backend, make_backend
from .casekit import CaseFailed, LabRun, parse_mountinfo, show, tail
from .errors import GuestLost, InfraError
from .submission import Handin, handin, stage, stage_rootfs, variant

# What a backend must offer for a case that `requires` it.
CAPABILITIES = {
    "vm": "runs only in the grading VM (it needs a disposable kernel)",
    "cgroup": "needs a delegated cgroup v2 with cpu, memory and pids (the grading VM has one)",
}


def pytest_addoption(parser):
    g = parser.getgroup("labs", "grading lab submissions")
    g.addoption("--submission", default=str(specmod.SOLUTIONS_DIR),
                help="folder to grade (default: the reference solutions)")
    g.addoption("--variant", action="append", default=[], metavar="LAB=PATH",
                help="grade the reference of LAB with PATH laid over it (alternative or mutant)")
    g.addoption("--backend", default="vm", choices=["vm", "host"])
    g.addoption("--visibility", default="all", choices=["public", "all"],
                help="public: only the cases students see")
    g.addoption("--outcomes", default=None, help="write every case's outcome to this JSON file")
    g.addoption("--progress", action="store_true", help="print one line per case on stderr")
    g.addoption("--stop-on-fail", action="store_true",
                help="stop a lab at its first failing case (mutation testing)")
    g.addoption("--batch", default=None, metavar="FILE",
                help="JSON list of {name, lab, path}: grade each variant in turn, in one machine")
    g.addoption("--timeouts", default=None, metavar="FILE",
                help="JSON {lab: {case: seconds}} replacing the spec's case timeouts")
    g.addoption("--claims", default=None, metavar="DIR",
                help="grade only the labs this process claims first in DIR (several graders share the labs)")


@dataclass
class Outcome:
    status: str              # passed, failed, skipped, infra
    message: str = ""
    seconds: float = 0.0


@dataclass
class LabState:
    handin: Handin
    build: buildmod.Build | None = None
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)


class Grading:
    """One submission being graded: staging, machine, builds and outcomes."""

    def __init__(self, config) -> None:
        opt = config.getoption
        self.config = config
        self.backend_name = opt("--backend")
        self.progress = opt("--progress")
        self.stop_on_fail = opt("--stop-on-fail")
        self.submission = Path(opt("--submission")).resolve()
        self.variants = dict(v.split("=", 1) for v in opt("--variant"))
        self.workdir = Path(tempfile.mkdtemp(prefix="labs-grade-"))
        self.workdir.chmod(0o755)  # cases also run the lab's programs as an ordinary user
        self.sub, self.out = self.workdir / "sub", self.workdir / "out"
        self.sub.mkdir()
        self.out.mkdir()
        stage_rootfs(self.sub)
        self.labs: dict[str, LabState] = {}
        self._machine: Backend | None = None
        self.broken: InfraError | None = None
        self.baseline: dict | None = None
        self.started = time.monotonic()
        self.failed_labs: set[str] = set()
        self.batch = json.loads(Path(opt("--batch")).read_text()) if opt("--batch") else None
        self.batch_results: dict[str, dict] = {}
        self.timeouts = json.loads(Path(opt("--timeouts")).read_text()) if opt("--timeouts") else {}
        self.claims = Path(opt("--claims")) if opt("--claims") else None
        self.owned: dict[str, bool] = {}

    def owns(self, lab: str) -> bool:
        """With --claims: whether this process grades the lab.  The first
        process to reach a lab makes DIR/LAB (atomically) and grades it; the
        others pass it by, so labs go to whichever grader is free."""
        if self.claims is None:
            return True
        if lab not in self.owned:
            try:
                (self.claims / lab).mkdir()
                self.owned[lab] = True
            except FileExistsError:
                self.owned[lab] = False
        return self.owned[lab]

    # ------------------------------------------------------------ labs
    def add_lab(self, lab: specmod.Lab) -> None:
        if lab.name in self.labs:
            return
        key = next((k for k in self.variants if specmod.resolve(k).name == lab.name), None)
        hand = (variant(lab, Path(self.variants[key]).resolve(), self.workdir / "variants") if key
                else handin(self.submission, lab))
        stage(lab, hand, self.sub)
        (self.out / lab.name).mkdir(exist_ok=True)
        self.labs[lab.name] = LabState(hand)

    def switch(self, entry: dict) -> None:
        """Batch grading: the next variant of a lab replaces the staged one."""
        lab = specmod.load(entry["lab"])
        hand = variant(lab, Path(entry["path"]), self.workdir / "variants" / entry["name"])
        stage(lab, hand, self.sub)
        self.labs[lab.name] = LabState(hand)
        self.failed_labs.discard(lab.name)

    def finish(self, entry: dict) -> None:
        self.batch_results[entry["name"]] = {"lab": entry["lab"],
                                             **self._lab_json(self.labs[entry["lab"]])}

    @property
    def machine(self) -> Backend:
        if self.broken:  # it failed to start (twice): no use trying for every case
            raise self.broken
        if self._machine is None:
            machine = make_backend(self.backend_name, self.sub, self.out)
            try:
                machine.start()
            except InfraError as exc:
                self.broken = exc
                raise
            self._machine = machine
            self.baseline = machine_state(machine)
        return self._machine

    def build(self, lab: specmod.Lab) -> buildmod.Build:
        state = self.labs[lab.name]
        if state.build is None:
            if state.handin.missing:
                state.build = buildmod.Build(False, reason="missing " + ", ".join(state.handin.missing)
                                             + f" (expected in {lab.name}/ of the submission)")
            elif buildmod.sandbox_works():
                state.build = buildmod.build(lab, buildmod.sandbox_runner(self.sub, self.out),
                                             f"/sub/{lab.name}", f"/out/{lab.name}", self.out / lab.name)
            else:
                m = self.machine

                def run(argv, cwd):
                    return m.run(argv, timeout=buildmod.COMPILE_TIMEOUT, cwd=cwd)
                state.build = buildmod.build(lab, run, f"{m.sub_dir}/{lab.name}",
                                             f"{m.out_dir}/{lab.name}", self.out / lab.name)
        return state.build

    # ---------------------------------------------------- between cases
    def reset(self, why: str, lab: specmod.Lab) -> None:
        """A fresh machine; builds the graded code tampered with are redone."""
        self.labs[lab.name].resets.append(why)
        machine = self.machine
        machine.reset()
        for name, state in self.labs.items():
            b = state.build
            if b and b.ok and buildmod.fingerprint(self.out / name) != b.digests:
                state.build = None

    def after_case(self, lab: specmod.Lab, case: specmod.Case) -> None:
        machine = self.machine
        try:
            machine.cleanup()
            dirt = compare_state(self.baseline, machine_state(machine))
        except (GuestLost, OSError) as exc:
            dirt = [f"the guest stopped answering ({exc})"]
        if dirt and machine.disposable:
            self.reset(f"after {case.id}: " + "; ".join(dirt) + " - the next case ran in a fresh guest", lab)
        elif dirt:
            self.labs[lab.name].resets.append(f"after {case.id}: the host was left with " + "; ".join(dirt))
            self.baseline = machine_state(machine)

    def close(self) -> None:
        if self._machine:
            self._machine.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------ report
    def as_json(self) -> dict:
        m = self._machine
        return {
            "submission": str(self.submission),
            "variants": self.variants,
            "backend": self.backend_name,
            "seconds": round(time.monotonic() - self.started, 2),
            "machine": {"boots": getattr(m, "boots", 0),
                        "ready_seconds": [round(t, 3) for t in getattr(m, "ready_times", [])]},
            "labs": {name: self._lab_json(s) for name, s in self.labs.items()
                     if self.claims is None or self.owned.get(name)},
            "batch": self.batch_results,
        }

    @staticmethod
    def _lab_json(s: LabState) -> dict:
        return {"handin": {k: str(v) if v else None for k, v in s.handin.files.items()},
                "build": _build_json(s.build),
                "cases": {cid: asdict(o) for cid, o in s.outcomes.items()},
                "resets": s.resets}


def _build_json(b: buildmod.Build | None) -> dict | None:
    if b is None:
        return None
    return {"ok": b.ok, "reason": b.reason, "log": b.log, "norm": b.norm,
            "seconds": round(b.seconds, 2)}


# ------------------------------------------------------------ machine state
def machine_state(m: Backend) -> dict:
    """What a case must leave as it found it, read from the machine's kernel."""
    def listing(path):
        try:
            return sorted(m.listdir(path))
        except OSError:
            return []

    def ipc(kind):
        try:
            rows = m.read(f"/proc/sysvipc/{kind}").decode(errors="replace").splitlines()[1:]
        except OSError:
            return []
        return sorted(f"{kind} key {int(r.split()[0]):#x} id {r.split()[1]}" for r in rows)
    state = {
        "mounts": sorted(f"{x.point} ({x.fstype})" for x in parse_mountinfo(m.read("/proc/self/mountinfo").decode())),
        "links": listing("/sys/class/net"),
        "named netns": listing("/run/netns"),
        "IPC objects": ipc("shm") + ipc("msg") + ipc("sem"),
        "hostname": [m.read("/proc/sys/kernel/hostname").decode().strip()],
    }
    if m.cgroup_parent:
        state["cgroups"] = [n for n in listing(m.cgroup_parent) if "." not in n]
    if m.disposable:
        state["processes"] = sorted(f"{p.comm}" for p in m.ps() if p.pid != 1)
        state["root files"] = listing("/")
    return state


def compare_state(before: dict, after: dict) -> list[str]:
    dirt = []
    for key, old in before.items():
        new = after.get(key, [])
        added = [x for x in new if x not in old]
        gone = [x for x in old if x not in new]
        if added or gone:
            parts = ([f"left {', '.join(added[:5])}"] if added else []) + \
                    ([f"removed {', '.join(gone[:5])}"] if gone else [])
            dirt.append(f"{key}: {' and '.join(parts)}")
    return dirt


# ------------------------------------------------------------------ hooks
def _grading(config) -> Grading:
    return config._labs_grading


def pytest_configure(config):
    config._labs_grading = Grading(config)


def pytest_unconfigure(config):
    g = getattr(config, "_labs_grading", None)
    if g is None:
        return
    path = config.getoption("--outcomes")
    if path:
        Path(path).write_text(json.dumps(g.as_json(), indent=1))
    g.close()


def _lab_of(item) -> specmod.Lab | None:
    folder = Path(str(item.fspath)).parent
    if folder.parent != specmod.SPEC_DIR:
        return None
    return specmod.load(folder.name)


def pytest_collection_modifyitems(session, config, items):
    g = _grading(config)
    public_only = config.getoption("--visibility") == "public"
    keep, drop = [], []
    labs: dict[str, specmod.Lab] = {}
    for item in items:
        lab = _lab_of(item)
        if lab is None:
            keep.append(item)
            continue
        lab = labs.setdefault(lab.name, lab)
        case_id = item.name[5:] if item.name.startswith("test_") else item.name
        try:
            case = lab.case(case_id)
        except KeyError:
            raise pytest.UsageError(f"{item.nodeid}: no case '{case_id}' in {lab.spec_path}")
        if public_only and case.visibility != "public":
            drop.append(item)
            continue
        if case.id in g.timeouts.get(lab.name, {}):
            case.timeout = float(g.timeouts[lab.name][case.id])
        item.lab, item.case = lab, case
        g.add_lab(lab)
        g.labs[lab.name].outcomes.setdefault(case.id, Outcome("skipped", "not run"))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    # Cases run in spec order; when stopping at the first failure (mutation
    # testing, with the reference's timings as timeouts), the quickest first.
    # Graders sharing the labs (--claims) take the longest labs first, so
    # that the short ones even out the end.
    def rank(item):
        lab, case = getattr(item, "lab", None), getattr(item, "case", None)
        if lab is None:
            return (0, "", 0)
        weight = -sum(c.timeout for c in lab.cases) if g.claims else 0
        if g.stop_on_fail and g.timeouts.get(lab.name):
            return (weight, lab.name, g.timeouts[lab.name].get(case.id, 0))
        return (weight, lab.name, [c.id for c in lab.cases].index(case.id))
    keep.sort(key=rank)
    items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """With --batch: every variant in turn runs its lab's cases, in one machine."""
    g = _grading(session.config)
    if g.batch is None or session.config.option.collectonly:
        return None
    for entry in g.batch:
        g.switch(entry)
        items = [it for it in session.items if getattr(it, "lab", None) and it.lab.name == entry["lab"]]
        for i, item in enumerate(items):
            item._initrequest()  # a fresh fixture request for each run of the item
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)
            if session.shouldfail or session.shouldstop:
                break
        g.finish(entry)
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """With --claims: a lab another grader took is passed by, unreported."""
    lab = getattr(item, "lab", None)
    if lab is not None and not _grading(item.config).owns(lab.name):
        return True
    return None


def pytest_runtest_setup(item):
    lab, case = getattr(item, "lab", None), getattr(item, "case", None)
    if case is None:
        return
    g = _grading(item.config)
    if g.stop_on_fail and lab.name in g.failed_labs:
        pytest.skip("an earlier case of this lab failed (stop-on-fail)")
    for need in case.requires:
        if need == "vm" and g.backend_name != "vm":
            pytest.skip(CAPABILITIES["vm"])
        if need == "cgroup" and not (g.machine.cgroup_parent):
            pytest.skip(CAPABILITIES["cgroup"])


@pytest.fixture
def lab(request):
    """The lab under test, built, on the grading machine (see casekit.LabRun)."""
    item = request.node
    g = _grading(request.config)
    g.machine  # started (or restored) outside the case's time budget
    built = g.build(item.lab)
    if not built.ok:
        raise CaseFailed(f"the lab did not build: {built.reason}",
                         hint="the compiler's output is in the lab's build log")
    run = LabRun(item.lab, item.case, lambda: g.machine, built)
    item._labrun = run
    yield run
    g.after_case(item.lab, item.case)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Runs a case; a guest lost meanwhile is replaced and the case run again."""
    run: LabRun | None = getattr(pyfuncitem, "_labrun", None)
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    if run is None:
        pyfuncitem.obj(**args)
        return True
    g = _grading(pyfuncitem.config)
    try:
        pyfuncitem.obj(**args)
    except GuestLost as first:
        g.reset(f"{run.case.id}: the guest was lost ({first}); the case ran again in a fresh guest", run.spec)
        run.deadline = time.monotonic() + run.case.timeout
        run.transcript.clear()
        run.build = g.build(run.spec)
        try:
            pyfuncitem.obj(**args)
        except GuestLost as second:
            g.reset(f"{run.case.id}: the guest was lost again", run.spec)
            raise CaseFailed("the grading VM died twice while this case ran your program",
                             observed=str(second),
                             hint="a program that reboots, powers off or crashes the kernel ends the VM") from None
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    case = getattr(item, "case", None)
    if case is None:
        return
    g = _grading(item.config)
    state = g.labs[item.lab.name]
    if report.when == "teardown":
        if report.failed:  # cleaning up after the case failed: the next case says more
            state.resets.append(f"after {case.id}: {call.excinfo.value}")
        return
    if report.when == "setup" and report.passed:
        return
    if report.passed:
        result = Outcome("passed", seconds=round(call.duration, 2))
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        result = Outcome("skipped", reason.removeprefix("Skipped: "))
    else:
        result = _failure(item, call)
        g.failed_labs.add(item.lab.name)
    state.outcomes[case.id] = result
    if g.progress:
        _progress(item, result)


def _failure(item, call) -> Outcome:
    exc = call.excinfo.value if call.excinfo else None
    case: specmod.Case = item.case
    lab: specmod.Lab = item.lab
    seconds = round(call.duration, 2)
    if isinstance(exc, (InfraError, GuestLost)):
        return Outcome("infra", f"infrastructure failure, not counted against the submission: {exc}", seconds)
    if isinstance(exc, CaseFailed):
        text = str(exc)
    elif isinstance(exc, AssertionError):
        text = f"{exc}" or "an assertion failed"
    else:
        # A correct solution never gets here (make test proves it): the case
        # met something it could not observe, e.g. a process that died early.
        where = traceback.extract_tb(call.excinfo.tb)[-1]
        text = (f"the case could not observe what it needed: {type(exc).__name__}: {exc}\n"
                f"  (at {Path(where.filename).name}:{where.lineno})")
    text += f"\n  see: labs/{lab.name}/README.md, section \"{case.section}\""
    run: LabRun | None = getattr(item, "_labrun", None)
    if run and run.transcript:
        text += "\n  programs this case ran:"
        for r in run.transcript[-4:]:
            text += f"\n    $ {show(r.argv)}  -> {r.describe()}"
            if r.stderr.strip():
                text += "\n      " + tail(r.stderr, 4).replace("\n", "\n      ")
    return Outcome("failed", text, seconds)


def _progress(item, outcome: Outcome) -> None:
    mark = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "infra": "INFRA"}[outcome.status]
    print(f"  {item.lab.name:<16} {item.case.id:<34} {mark:>5}  {outcome.seconds:5.1f}s",
          file=sys.stderr, flush=True)
