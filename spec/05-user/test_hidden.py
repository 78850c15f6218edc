"""Hidden cases of lab 05-user: unmapped ids, a map written twice, and the
errors the kernel gives when user namespaces are disabled or exhausted."""
from harness.casekit import expect

OWNED = "/tmp/lab05-owned"
MAX_USERNS = "/proc/sys/user/max_user_namespaces"
UNPRIV_CLONE = "/proc/sys/kernel/unprivileged_userns_clone"


def test_unmapped_ids_overflow(lab, userns):
    # A file of ids nobody maps: uid 1234, gid 4321.
    lab.sh(f"touch {OWNED} && chown 1234:4321 {OWNED}")
    try:
        prog = userns.start("ids")
        userns.reported(prog, "spawned")
        child = userns.fn_process(prog)
        for name in ("uid_map", "gid_map"):
            entries = userns.read_map(child, name)
            expect(entries == [(0, 0, 1)], f"/proc/{child}/{name} of a child spawned by root",
                   expected="0 0 1: root alone becomes root inside, no other id is mapped",
                   observed=" / ".join(" ".join(map(str, e)) for e in entries) or "(empty)")
        seen = userns.inside(child, "stat", "-c", "%u:%g", "/", OWNED).split()
        expect(seen[:1] == ["0:0"], "the owner of / (root outside) seen from inside the user namespace",
               expected="0:0 (mapped)", observed=seen[:1])
        expect(seen[1:] == ["65534:65534"], f"the owner of {OWNED} (1234:4321 outside) seen from inside",
               expected="65534:65534 (unmapped ids read as the overflow ids)", observed=seen[1:])
    finally:
        lab.machine.run(["rm", "-f", OWNED], timeout=5.0)


def test_second_write_fails(lab, userns):
    prog = userns.start("remap", student=True)
    child = userns.pid_line(prog, "spawned")
    said = userns.reported(prog, "second uid_map:")
    expect(said == "error: Operation not permitted",
           "what userns_write_map reported for a second write to uid_map",
           expected="error: Operation not permitted (a map is written once)", observed=said)
    entries = userns.read_map(child, "uid_map")
    uid = userns.STUDENT["uid"]
    expect(entries == [(0, uid, 1)], f"/proc/{child}/uid_map after the second write",
           expected=f"still 0 {uid} 1", observed=" / ".join(" ".join(map(str, e)) for e in entries))


def _failure(result) -> tuple:
    lines = result.stdout.splitlines()
    error = next((l for l in lines if l.startswith("error:")), "")
    hint = next((l for l in lines if l.startswith("hint:")), "")
    return error, hint


def test_enospc_explained(lab, userns):
    old = userns.set_sysctl(MAX_USERNS, "0")
    try:
        result = lab.run("userns", "ids", timeout=8.0)
    finally:
        userns.restore_sysctl(MAX_USERNS, old)
    error, hint = _failure(result)
    expect(result.exit == 1 and error == "error: userns_spawn: No space left on device",
           f"the driver, with {MAX_USERNS} set to 0", expected="error: userns_spawn: No space left on device "
           "(errno ENOSPC kept for the caller), exit status 1",
           observed=f"{error or 'no error line'}; {result.describe()}")
    expect("max_user_namespaces" in hint, "the hint userns_hint(ENOSPC) gave",
           expected="a sentence naming /proc/sys/user/max_user_namespaces", observed=hint or "no hint line")


def test_eperm_explained(lab, userns):
    old = userns.set_sysctl(UNPRIV_CLONE, "0")
    try:
        result = lab.run("userns", "ids", timeout=8.0, **userns.STUDENT)
    finally:
        userns.restore_sysctl(UNPRIV_CLONE, old)
    error, hint = _failure(result)
    expect(result.exit == 1 and error == "error: userns_spawn: Operation not permitted",
           f"the driver run by an ordinary user, with {UNPRIV_CLONE} set to 0",
           expected="error: userns_spawn: Operation not permitted, exit status 1",
           observed=f"{error or 'no error line'}; {result.describe()}")
    expect("unprivileged_userns_clone" in hint, "the hint userns_hint(EPERM) gave",
           expected="a sentence naming /proc/sys/kernel/unprivileged_userns_clone", observed=hint or "no hint line")
