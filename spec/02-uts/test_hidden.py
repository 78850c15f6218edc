"""Hidden cases of lab 02-uts: boundaries, the fuzz, a refused sethostname, the join's fd."""
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
    prog = lab.start("utsns", "--hold", "--deny-sethostname", "run", "box-9", "lab.example")
    out = utsns.settle(prog)
    report = utsns.parse(out)
    expect("payload" not in report, "the payload, when sethostname() fails with EPERM in the child "
           "(a seccomp filter refuses it)", expected="never run",
           observed=f"it ran and saw: {report.get('payload')}")
    expect(report.get("error", "").startswith("uts_spawn: EPERM") and "spawned" not in report,
           "what uts_spawn returned when the child could not set its host name",
           expected="-1 with errno EPERM", observed=out.strip().replace("\n", " | ") or "nothing")
    left = lab.children(prog.pid)
    expect(not left, f"children of utsns (PID {prog.pid}) once uts_spawn has failed",
           expected="none: the failed child reaped",
           observed=", ".join(f"PID {p.pid} in state {p.state}" for p in left))
    expect(utsns.machine_names() == before, "the machine's own names", expected=f"unchanged: {before}",
           observed=utsns.machine_names())


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
