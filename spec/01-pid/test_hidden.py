"""Hidden cases of lab 01-pid: stack size, zombies, the duties of PID 1."""
import time

from harness.casekit import expect


def test_stack_big_enough(lab, pidns):
    report = pidns.run("deep", 700)
    expect(report.get("exited") == 0, "a child whose payload uses 700 KiB of stack",
           expected="exited 0", observed=", ".join(f"{k} {v}" for k, v in report.items()))


def test_no_zombie_left(lab, pidns):
    # A child that takes a while: waiting must really wait for it.
    prog, _ = pidns.start("--hold", "slow", 3)
    out = prog.wait_for_output("ready\n")
    expect("exited 3" in out, "what pidns_wait reported", expected="exited 3", observed=out.strip())
    left = lab.children(prog.pid)
    expect(not left, f"children of pidns (PID {prog.pid}) once pidns_wait has returned",
           expected="none", observed=", ".join(f"PID {p.pid} in state {p.state}"
                                               + (" (a zombie)" if p.state == "Z" else "") for p in left))


def test_orphans_reaped(lab, pidns):
    prog, _ = pidns.start("orphans", 4)
    init = pidns.child_of(prog)
    # Its payload leaves 4 orphans that exit after 0.1 s; then it sleeps 3 s.
    # By 1.5 s every orphan has ended, and PID 1 should have reaped them.
    time.sleep(1.5)
    kids = lab.children(init)
    zombies = [p.pid for p in kids if p.state == "Z"]
    expect(not zombies and len(kids) == 1,
           f"children of the namespace's PID 1 (host PID {init}) once the orphans have exited",
           expected="only the payload", observed=f"{len(kids)} children, {len(zombies)} of them zombies")


def test_killing_init_ends_namespace(lab, pidns):
    prog, _ = pidns.start("family", 3)
    init = pidns.child_of(prog)
    ns = lab.ns_of(init, "pid")

    def members():
        return [p.pid for p in lab.ps() if lab.ns_of(p.pid, "pid") == ns]
    lab.eventually(lambda: len(members()) == 5, what="PID 1, its payload and 3 children in the namespace")
    lab.run("kill", "-KILL", init)
    lab.eventually(lambda: not members(), timeout=3.0,
                   what="every process of the namespace to end once its PID 1 is killed")
    result = prog.finish(5.0)
    expect("signaled 9" in result.stdout, "what pidns_wait reported for a PID 1 killed with SIGKILL",
           expected="signaled 9", observed=result.stdout.strip().splitlines()[-1:] or result.describe())
