"""Hidden cases of lab 02-uts: boundaries, the fuzz, missing and unterminated names, naming
refused or interrupted in the child, errors and leaks, the join's fd and errors."""
import random
import string

from harness.casekit import expect

# The fuzz is replayable: random.Random(FUZZ_SEED) draws, 100 times, a
# length from randint(0, 100), then that many characters from ALPHABET.
# Seed 2 was chosen because its draws include the lengths 0, 1, 64, 65 and 100.
FUZZ_SEED = 2
FUZZ_NAMES = 100
ALPHABET = string.ascii_letters + string.digits


def fuzz_names(seed: int = FUZZ_SEED) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 100))) for _ in range(FUZZ_NAMES)]


def test_longest_name_accepted(lab, utsns):
    longest = "".join(ALPHABET[i % len(ALPHABET)] for i in range(63)) + "z"
    for name, what in ((longest, "a host name of exactly 64 bytes"), ("x", "a host name of 1 byte")):
        prog, child = utsns.start_held(name, "lab.example")
        seen = utsns.inside(child, "hostname")
        expect(seen == name, f"the host name of the payload's namespace, given {what}",
               expected=name, observed=seen)
        utsns.release()
    domain = longest.lower()
    for name, what in ((domain, "a domain name of exactly 64 bytes"), ("", "an empty domain name")):
        prog, child = utsns.start_held("box-6", name)
        seen = utsns.inside(child, "domainname")
        expect(seen == name, f"the domain name of the payload's namespace, given {what}",
               expected=name or "an empty line", observed=seen or "an empty line")
        utsns.release()


def test_missing_and_unterminated_names(lab, utsns):
    for hostname, domainname, field, what in (
            ("(null)", "lab.example", "hostname", "a NULL host name"),
            ("box-7", "(null)", "domain", "a NULL domain name"),
            ("(unterminated)", "lab.example", "hostname",
             "a host name of 65 bytes with no NUL after them, at the end of readable memory"),
            ("box-7", "(unterminated)", "domain",
             "a domain name of 65 bytes with no NUL after them, at the end of readable memory")):
        result, report = utsns.run("run", hostname, domainname)
        expect(report.get("error", "").startswith("uts_spawn returned -1, errno EINVAL"),
               f"uts_spawn with {what}", expected="-1 with errno EINVAL", observed=utsns.said(result),
               hint="a crash (SIGSEGV) means a name was read past its 65th byte: strnlen stops there"
                    if result.signal else "")
        expect(field in report.get("invalid", ""), f"the reason uts_config_error gives for {what}",
               expected=f"a sentence naming the {field}", observed=report.get("invalid", "none"))


def test_fuzz_hostnames(lab, utsns):
    names = fuzz_names()
    replay = (f"fuzz seed {FUZZ_SEED}: random.Random({FUZZ_SEED}) draws randint(0, 100) characters "
              f"from letters and digits, {FUZZ_NAMES} times")
    before = utsns.machine_names()
    # First, as the machine is: a valid name is accepted and seen inside.
    for i, (name, line) in enumerate(zip(names, utsns.batch(names))):
        valid = 1 <= len(name) <= 64
        wanted = f"accepted {name}" if valid else "refused EINVAL"
        expect(line == wanted, f"name #{i} of the fuzz, {len(name)} bytes: {name!r}",
               expected=wanted, observed=line, hint=replay)
    expect(utsns.machine_names() == before, "the machine's own names after the fuzz",
           expected=f"unchanged: {before}", observed=utsns.machine_names(), hint=replay)
    # Then with no new UTS namespace allowed: a valid name gets as far as
    # clone() (ENOSPC); an invalid one must be refused before (EINVAL).
    with utsns.no_new_namespaces():
        lines = utsns.batch(names)
    for i, (name, line) in enumerate(zip(names, lines)):
        valid = 1 <= len(name) <= 64
        wanted = "refused ENOSPC" if valid else "refused EINVAL"
        expect(line == wanted, f"name #{i} of the fuzz, {len(name)} bytes: {name!r}, while no UTS namespace "
               f"may be created (max_uts_namespaces = 0)", expected=wanted, observed=line, hint=replay)


def test_sethostname_refused(lab, utsns):
    before = utsns.machine_names()
    # The last run: the failed child takes 200 ms to exit (--stall-exit), and
    # a SIGALRM every 20 ms interrupts the parent's wait for it meanwhile.
    for options, call in ((("--deny-sethostname",), "sethostname"),
                          (("--deny-setdomainname",), "setdomainname"),
                          (("--deny-sethostname", "--stall-exit", "--interrupt"), "sethostname")):
        shown = " ".join(options)
        prog = lab.start("utsns", "--hold", *options, "run", "box-9", "lab.example")
        out = utsns.settle(prog)
        report = utsns.parse(out)
        expect("payload" not in report, f"the payload, when {call}() fails with EPERM in the child "
               f"(a seccomp filter refuses it: utsns {shown})", expected="never run",
               observed=f"it ran and saw: {report.get('payload')}")
        expect(report.get("error", "").startswith("uts_spawn returned -1, errno EPERM") and "spawned" not in report,
               f"what uts_spawn returned when {call}() failed in the child (utsns {shown})",
               expected="-1 with errno EPERM", observed=out.strip().replace("\n", " | ") or "nothing")
        left = lab.children(prog.pid)
        expect(not left, f"children of utsns (PID {prog.pid}) once uts_spawn has failed (utsns {shown})",
               expected="none: the failed child reaped",
               observed=", ".join(f"PID {p.pid} in state {p.state}" for p in left))
        prog.signal(9)
        prog.finish()
    expect(utsns.machine_names() == before, "the machine's own names", expected=f"unchanged: {before}",
           observed=utsns.machine_names())


def test_child_death_reported(lab, utsns):
    # The child is killed in its sethostname(), 200 ms after the call.  With
    # --interrupt the parent's read is interrupted meanwhile, about ten times.
    for options in (("--kill-at-sethostname",), ("--kill-at-sethostname", "--interrupt")):
        shown = " ".join(options)
        prog = lab.start("utsns", "--hold", *options, "run", "box-10", "lab.example")
        out = utsns.settle(prog)
        report = utsns.parse(out)
        expect(report.get("error", "").startswith("uts_spawn returned -1, errno EIO") and "spawned" not in report,
               f"what uts_spawn returned when the child was killed before it could report (utsns {shown})",
               expected="-1 with errno EIO", observed=out.strip().replace("\n", " | ") or "nothing")
        left = lab.children(prog.pid)
        expect(not left, f"children of utsns (PID {prog.pid}) once uts_spawn has failed",
               expected="none: the dead child reaped",
               observed=", ".join(f"PID {p.pid} in state {p.state}" for p in left))
        prog.signal(9)
        prog.finish()


def test_report_survives_signals(lab, utsns):
    # Each sethostname() of the child is held 200 ms; meanwhile a SIGALRM
    # arrives every 20 ms in the parent, whose handler does not restart calls.
    result, report = utsns.run("--interrupt", "--stall-sethostname", "run", "box-11", "lab.example")
    expect(report.get("exited") == 0 and report.get("payload", "").startswith("hostname box-11 "),
           "uts_spawn while signals keep interrupting the parent's read of the report",
           expected="spawned PID, payload: hostname box-11 ..., exited 0", observed=utsns.said(result),
           hint="read() failing with EINTR is no report: read again")


def test_nothing_leaked(lab, utsns):
    prog, child = utsns.start_held("box-12", "lab.example")
    for pid, who in ((prog.pid, "utsns, once uts_spawn has returned"), (child, "the payload")):
        extra = utsns.extra_fds(pid)
        expect(not extra, f"file descriptors of {who} (/proc/{pid}/fd)",
               expected="only 0, 1 and 2: both ends of the sync pipe closed", observed=extra)
    utsns.release()
    refusals = [(("--deny-sethostname", "run", "box-12", "lab.example"), "a child whose sethostname failed"),
                (("run", "", "lab.example"), "an invalid configuration")]
    for argv, what in refusals:
        prog = lab.start("utsns", "--hold", *argv)
        utsns.settle(prog)
        extra = utsns.extra_fds(prog.pid)
        expect(not extra, f"file descriptors of utsns after uts_spawn refused {what} (/proc/{prog.pid}/fd)",
               expected="only 0, 1 and 2", observed=extra)
        prog.signal(9)
        prog.finish()
    with utsns.no_new_namespaces():
        prog = lab.start("utsns", "--hold", "run", "box-12", "lab.example")
        out = utsns.settle(prog)
        extra = utsns.extra_fds(prog.pid)
    expect("ENOSPC" in out and not extra, f"file descriptors of utsns after clone() failed with ENOSPC "
           f"(/proc/{prog.pid}/fd)", expected="error ENOSPC, then only 0, 1 and 2",
           observed=f"{out.strip().replace(chr(10), ' | ')}; {extra or 'only 0, 1 and 2'}")
    prog.signal(9)
    prog.finish()

    def vm_size(n: int) -> int:
        held = lab.start("utsns", "--hold", "many", n)
        out = held.wait_for_output("ready\n", timeout=30.0)
        extra = utsns.extra_fds(held.pid)
        expect(not extra, f"file descriptors of utsns after {n} spawns (/proc/{held.pid}/fd)",
               expected="only 0, 1 and 2", observed=f"{extra}, after printing: {out.strip()}")
        kb = int(lab.status(held.pid)["VmSize"].split()[0])
        held.signal(9)
        held.finish()
        return kb
    one, forty = vm_size(1), vm_size(40)
    expect(forty - one < 8 * 1024,
           "the virtual memory of utsns (VmSize in /proc/PID/status) after 40 spawns, against 1",
           expected="about the same: each clone stack freed", observed=f"{(forty - one) // 1024} MiB more")


def test_resource_errors_reported(lab, utsns):
    result, report = utsns.run("--no-fds", "run", "box-13", "lab.example")
    expect(report.get("error", "").startswith("uts_spawn returned -1, errno EMFILE"),
           "uts_spawn when no file descriptor can be opened (RLIMIT_NOFILE reached)",
           expected="-1 with errno EMFILE", observed=utsns.said(result))
    result, report = utsns.run("--short-memory", "run", "box-13", "lab.example")
    refused = report.get("error", "").startswith("uts_spawn returned -1, errno ENOMEM")
    started = report.get("exited") == 0 and report.get("payload", "").startswith("hostname box-13 ")
    expect(refused or started, "uts_spawn when a 1 MiB allocation fails (RLIMIT_AS reached)",
           expected="-1 with errno ENOMEM (or, without a stack to allocate, a payload that runs)",
           observed=utsns.said(result))


def test_join_closes_fd(lab, utsns):
    holder, child = utsns.start_held("db-5", "lab.example")
    joiner = lab.start("utsns", "--hold", "join", child)
    out = utsns.settle(joiner)
    expect("joined" in utsns.parse(out), f"`utsns join {child}`", expected="joined: ...",
           observed=out.strip().replace("\n", " | "))
    held = []
    for fd in lab.machine.listdir(f"/proc/{joiner.pid}/fd"):
        try:
            target = lab.machine.readlink(f"/proc/{joiner.pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("uts:["):
            held.append(f"fd {fd} -> {target}")
    expect(not held, f"file descriptors of the process that joined (/proc/{joiner.pid}/fd)",
           expected="none left open on a namespace", observed=", ".join(held))


def test_join_errors_reported(lab, utsns):
    result, report = utsns.run("join", 999999)
    error = report.get("error", "")
    expect(error.startswith("uts_join returned -1, errno ENOENT") or error.startswith("uts_join returned -1, errno ESRCH"),
           "uts_join of a process that does not exist (PID 999999)", expected="-1 with errno ENOENT or ESRCH",
           observed=utsns.said(result))
    result = lab.run("utsns", "join", "self", uid=1000, gid=1000)
    error = utsns.parse(result.stdout).get("error", "")
    expect(error.startswith("uts_join returned -1, errno EPERM"),
           "uts_join run by an ordinary user (no CAP_SYS_ADMIN), into its own namespace",
           expected="-1 with errno EPERM", observed=utsns.said(result))
    result, report = utsns.run("--no-fds", "join", "self")
    expect(report.get("error", "").startswith("uts_join returned -1, errno EMFILE"),
           "uts_join when no file descriptor can be opened (RLIMIT_NOFILE reached)",
           expected="-1 with errno EMFILE", observed=utsns.said(result))
    holder, child = utsns.start_held("db-14", "lab.example")
    joiner = lab.start("utsns", "--hold", "--close-stdin", "join", child)
    out = utsns.settle(joiner)
    joined, target = lab.ns_of(joiner.pid, "uts"), lab.ns_of(child, "uts")
    expect(joined == target and "joined: hostname db-14 " in out,
           f"uts_join with stdin closed (fd 0 free, so open() returns 0), into PID {child}'s namespace",
           expected=f"joined: its namespace {target}",
           observed=f"{out.strip().replace(chr(10), ' | ') or 'nothing'}; namespace {joined}")
