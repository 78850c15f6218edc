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


def test_init_returns_payload_status(lab, pidns):
    for argv, code in ((("init-exit", 7), 7), (("init-crash",), 139)):
        report = pidns.run(*argv)
        expect(report.get("exited") == code, f"the exit code of a PID 1 running pidns_init ({argv[0]})",
               expected=f"exited {code}" + (" (128 + SIGSEGV)" if code == 139 else ""),
               observed=", ".join(f"{k} {v}" for k, v in report.items() if k in ("exited", "signaled", "error")))
    result = lab.run("pidns", "init-alone", 5)
    expect("init returned 5" in result.stdout, "pidns_init called directly, with a payload returning 5",
           expected="init returned 5", observed=result.stdout.strip() or result.describe())


def test_errors_reported(lab, pidns):
    said = pidns.error("exit", 0, uid=1000, gid=1000)
    expect("returned -1, errno EPERM" in said, "pidns_spawn run by an ordinary user (no CAP_SYS_ADMIN)",
           expected="-1 with errno EPERM", observed=said)
    said = pidns.error("stranger")
    expect("returned -1, errno ECHILD" in said, "pidns_wait on a process that is not a child",
           expected="-1 with errno ECHILD", observed=said)
    said = lab.run("prlimit", "--nproc=1", f"{lab.out}/pidns", "init-alone", 0, uid=1000, gid=1000)
    line = next((l for l in said.stdout.splitlines() if l.startswith("error: ")), said.stdout.strip())
    expect("pidns_init returned -1, errno EAGAIN" in line,
           "pidns_init when fork fails (an ordinary user limited to one process)",
           expected="-1 with errno EAGAIN", observed=line or said.describe())


def test_wait_survives_signals(lab, pidns):
    # SIGALRM every 20 ms, without SA_RESTART: waits fail with EINTR.
    report = pidns.run("--interrupt", "slow", 4)
    expect(report.get("exited") == 4, "pidns_wait while signals keep interrupting it",
           expected="exited 4", observed=report.get("error") or report)
    result = lab.run("pidns", "--interrupt", "init-alone", 3)
    expect("init returned 3" in result.stdout, "pidns_init while signals keep interrupting its wait",
           expected="init returned 3", observed=result.stdout.strip() or result.describe())


def test_no_stack_leak(lab, pidns):
    def vm_size(n: int) -> int:
        prog = lab.start("pidns", "--hold", "many", n)
        prog.wait_for_output("ready\n")
        kb = int(lab.status(prog.pid)["VmSize"].split()[0])
        prog.signal(9)
        return kb
    one, forty = vm_size(1), vm_size(40)
    expect(forty - one < 8 * 1024,
           "the driver's virtual memory (VmSize in /proc/PID/status) after 40 spawns, against 1",
           expected="about the same: each clone stack freed", observed=f"{(forty - one) // 1024} MiB more")
