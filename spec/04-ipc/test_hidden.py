"""Hidden cases of lab 04-ipc: the host's mount table, removal, rollback, lookups one by one,
removal errors, failed mounts, spawn errors, the stack."""
from harness.casekit import expect



def test_host_mounts_untouched(lab, ipcns):
    # The machine's /dev/mqueue is a shared mount, as on any systemd host.
    with ipcns.outside_mqueue("lab04-outside", shared=True):
        prog, child, report = ipcns.start_held("mqueue", "lab04-inside")
        expect("error" not in report, "the payload", expected="inside queues: ..., inside created ...",
               observed=report.get("error"))
        mine = ipcns.mqueue_mounts(child)
        expect(len(mine) >= 2 and mine[-1].fstype == "mqueue", f"the payload's mounts on {ipcns.MQUEUE} "
               f"(/proc/{child}/mountinfo)", expected="its own mqueue mount, on top of the copy of the machine's",
               observed="only the copy of the machine's" if len(mine) == 1 else f"{len(mine)} mounts")
        host = ipcns.mqueue_mounts(1)
        expect(len(host) == 1, f"the machine's mounts on {ipcns.MQUEUE} (/proc/1/mountinfo)",
               expected="only its own, unchanged",
               observed=f"{len(host)}: " + ", ".join(f"{m.fstype} (id {m.mount_id}, {m.propagation})"
                                                     for m in host),
               hint="a mount made in the machine's mount namespace, or propagated to it from a shared copy")


def _left(rows_by_kind: dict) -> str:
    return ", ".join(f"a {kind} (id {rows[0].get('shmid', rows[0].get('msqid', rows[0].get('semid')))})"
                     for kind, rows in rows_by_kind.items())


def test_objects_removed(lab, ipcns):
    result, report = ipcns.run("roundtrip", ipcns.KEY)
    expect(result.exit == 0 and report.get("removed"), f"`ipcns roundtrip {ipcns.KEY}`",
           expected="created ..., used, removed", observed=ipcns.show(result.stdout) + f" ({result.describe()})")
    left = {kind: rows for kind, rows in ipcns.keyed().items() if rows}
    expect(not left, f"objects with key {ipcns.KEY:#x} on the machine once ipcns has ended (/proc/sysvipc/*)",
           expected="none: all three removed", observed=_left(left))
    # In a fresh namespace the first object of each kind gets id 0: a valid id.
    prog, child, report = ipcns.start_held("cycle", ipcns.KEY)
    expect(report.get("created") and report.get("removed"), "the payload creating its objects and removing them",
           expected="inside created ..., inside removed", observed=ipcns.show(prog.output()))
    left = {kind: rows for kind, rows in ipcns.keyed(child).items() if rows}
    expect(not left, f"objects with key {ipcns.KEY:#x} in the payload's namespace once ipcset_remove returned "
           f"(nsenter -t {child} -i), ids {report.get('created')}", expected="none: all three removed, id 0 too",
           observed=_left(left))
    expect(report.get("set") == ipcns.ids(), "the set once ipcset_remove returned",
           expected="shm -1 msg -1 sem -1", observed=report.get("set"))


def test_create_rolls_back(lab, ipcns):
    # The key is taken for one kind only: ipcset_create must fail with EEXIST
    # and take back what it made of the other kinds, whatever its order.
    for taken in ("sem", "msg", "shm"):
        with ipcns.outside_objects(kinds=(taken,)) as ours:
            result, report = ipcns.run("roundtrip", ipcns.KEY)
            expect(report.get("error", "").startswith("ipcset_create returned -1, errno EEXIST"),
                   f"ipcset_create({ipcns.KEY:#x}) while the machine already has a {taken} object with that key",
                   expected="-1 with errno EEXIST", observed=ipcns.show(result.stdout))
            expect(report.get("set") == ipcns.ids(), "the set after the failed ipcset_create",
                   expected="shm -1 msg -1 sem -1", observed=report.get("set"))
            now = ipcns.keyed()
            left = [f"a {kind}" for kind, rows in now.items() if kind != taken and rows]
            expect(not left, f"objects with key {ipcns.KEY:#x} on the machine after the failed ipcset_create "
                   f"(the {taken} was taken)", expected=f"only the case's {taken}",
                   observed="also " + ", ".join(left) + " left behind")
            idkey = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[taken]
            expect([r[idkey] for r in now[taken]] == [ours[taken]], f"the case's own {taken} (id {ours[taken]})",
                   expected="still there, untouched", observed=f"{now[taken]}")


def test_open_reports_each_object(lab, ipcns):
    key = ipcns.KEY
    result, report = ipcns.run("open", key)
    expect(report.get("found") == 0 and report.get("found_ids") == ipcns.ids(),
           f"ipcset_open({key:#x}) on the machine, where nothing has that key",
           expected="found 0 shm -1 msg -1 sem -1", observed=ipcns.said(result))
    for kind in ("shm", "msg", "sem"):
        with ipcns.outside_objects(kinds=(kind,)) as ours:
            result, report = ipcns.run("open", key)
            want = ipcns.ids(**{kind: ours[kind]})
            expect(report.get("found") == 1 and report.get("found_ids") == want,
                   f"ipcset_open({key:#x}) while the machine has only a {kind} object (id {ours[kind]}) with that key",
                   expected="found 1 " + " ".join(f"{k} {v}" for k, v in want.items()), observed=ipcns.said(result))
    with ipcns.outside_objects() as ours:
        result, report = ipcns.run("open", key)
        want = ipcns.ids(**ours)
        expect(report.get("found") == 3 and report.get("found_ids") == want,
               f"ipcset_open({key:#x}) while the machine has all three", expected="found 3 " + " ".join(
                   f"{k} {v}" for k, v in want.items()), observed=ipcns.said(result))
        result, report = ipcns.run("open", key, uid=1000, gid=1000)
        expect(report.get("error", "").startswith("ipcset_open returned -1, errno EACCES"),
               f"ipcset_open({key:#x}) by an ordinary user, of root's objects (mode 0600)",
               expected="-1 with errno EACCES: they exist, but it may not read and write them",
               observed=ipcns.said(result))
    prog, child, report = ipcns.start_held("isolated", key)
    expect(report.get("reopened") == 3 and report.get("reopened_ids") == report.get("created"),
           "ipcset_open in the payload, right after its ipcset_create (in a fresh namespace, ids may be 0)",
           expected=f"reopened found 3 with the ids created: {report.get('created')}",
           observed=ipcns.show(prog.output()))


INVALID = 999999999  # an id no object has


def test_remove_reports_errors(lab, ipcns):
    def remove(shm, msg, sem, uid=None):
        result, report = ipcns.run("remove", shm, msg, sem, uid=uid, gid=uid)
        expect(report.get("set") == ipcns.ids(), f"the set after ipcset_remove of shm {shm} msg {msg} sem {sem}",
               expected="shm -1 msg -1 sem -1: every id marked absent", observed=ipcns.said(result))
        return result, report

    with ipcns.outside_objects() as ours:
        result, report = remove(ours["shm"], ours["msg"], ours["sem"])
        left = {kind: rows for kind, rows in ipcns.keyed().items() if rows}
        expect(report.get("removed") and not left, "ipcset_remove of three objects that exist",
               expected="removed, and none left in /proc/sysvipc", observed=f"{ipcns.said(result)}; left: "
               f"{_left(left) or 'none'}")
    with ipcns.outside_objects(kinds=("msg", "sem")) as ours:
        result, report = remove(INVALID, ours["msg"], ours["sem"])
        left = {kind: rows for kind, rows in ipcns.keyed().items() if rows}
        expect(report.get("error", "").startswith("ipcset_remove returned -1, errno EINVAL") and not left,
               f"ipcset_remove of a segment id that does not exist ({INVALID}), then of a queue and a set that do",
               expected="-1 with errno EINVAL, and the queue and the set removed all the same",
               observed=f"{ipcns.said(result)}; left: {_left(left) or 'none'}")
    result, report = remove(-1, -1, -1)
    expect(report.get("removed"), "ipcset_remove of a set whose three ids are -1 (nothing to remove)",
           expected="removed (0)", observed=ipcns.said(result))
    for shm, msg, sem, what in ((-1, INVALID, -1, "a queue id"), (-1, -1, INVALID, "a semaphore set id")):
        result, report = remove(shm, msg, sem)
        expect(report.get("error", "").startswith("ipcset_remove returned -1, errno EINVAL"),
               f"ipcset_remove of {what} that does not exist ({INVALID}), the other two absent (-1)",
               expected="-1 with errno EINVAL", observed=ipcns.said(result))
    with ipcns.outside_objects(kinds=("msg", "sem")) as ours:
        result, report = remove(INVALID, ours["msg"], ours["sem"], uid=1000)
        left = ipcns.keyed()
        expect(report.get("error", "").startswith("ipcset_remove returned -1, errno EINVAL"),
               f"ipcset_remove by an ordinary user: a segment id that does not exist (EINVAL), then root's queue "
               f"and set (EPERM each)", expected="-1 with errno EINVAL: the first failure",
               observed=ipcns.said(result))
        expect(len(left["msg"]) == 1 and len(left["sem"]) == 1, "root's queue and set after that",
               expected="both still there", observed=_left({k: v for k, v in left.items() if v}) or "gone")


def test_mount_failure_stops_payload(lab, ipcns):
    for option, what in (("--deny-mount", "every mount() fails with EPERM"),
                         ("--deny-new-mounts", "making mounts private works, mounting mqueue fails with EPERM")):
        result, report = ipcns.run(option, "isolated", ipcns.KEY)
        ran = [line for line in result.stdout.splitlines() if line.startswith("inside ")]
        expect(report.get("exited") == 127 and not ran,
               f"the payload's fate when the child cannot mount its mqueue ({option}: {what})",
               expected="never run; the child exits with 127", observed=ipcns.said(result))
        expect("Operation not permitted" in result.stderr, "what the child printed on stderr",
               expected="why the mount failed, with strerror: '... Operation not permitted'",
               observed=result.stderr.strip() or "nothing")
    result, report = ipcns.run("mount-denied", ipcns.MQUEUE)
    expect(report.get("error", "").startswith("ipcns_mount_mqueue returned -1, errno EPERM"),
           "ipcns_mount_mqueue when every mount() fails with EPERM (a seccomp filter)",
           expected="-1 with errno EPERM", observed=ipcns.said(result))
    result, report = ipcns.run("remount", "/nonexistent")
    expect(report.get("error", "").startswith("ipcns_mount_mqueue returned -1, errno ENOENT"),
           "ipcns_mount_mqueue(\"/nonexistent\") in the payload, in its own namespaces",
           expected="-1 with errno ENOENT", observed=ipcns.said(result))


def test_spawn_errors_reported(lab, ipcns):
    result, report = ipcns.run("isolated", ipcns.KEY, uid=1000, gid=1000)
    ran = [line for line in result.stdout.splitlines() if line.startswith("inside ")]
    refused = report.get("error", "").startswith("ipcns_spawn returned -1, errno EPERM")
    forked = report.get("exited") == 127  # namespaces made in an already forked child
    expect((refused or forked) and not ran, "ipcns_spawn run by an ordinary user (no CAP_SYS_ADMIN)",
           expected="-1 with errno EPERM (or, namespaces made after a fork, a child that exits with 127), "
                    "and the payload never run", observed=ipcns.said(result))
    result, report = ipcns.run("--short-memory", "isolated", ipcns.KEY)
    refused = report.get("error", "").startswith("ipcns_spawn returned -1, errno ENOMEM")
    started = report.get("exited") == 0 and report.get("removed")
    expect(refused or started, "ipcns_spawn when a 1 MiB allocation fails (RLIMIT_AS reached)",
           expected="-1 with errno ENOMEM (or, without a stack to allocate, a payload that runs)",
           observed=ipcns.said(result))


def test_no_stack_leak(lab, ipcns):
    def vm_size(n: int) -> int:
        prog = lab.start("ipcns", "--hold", "many", n)
        prog.wait_for_output("ready\n", timeout=30.0)
        kb = int(lab.status(prog.pid)["VmSize"].split()[0])
        prog.signal(9)
        prog.finish()
        return kb
    one, forty = vm_size(1), vm_size(40)
    expect(forty - one < 8 * 1024,
           "the virtual memory of ipcns (VmSize in /proc/PID/status) after 40 spawns, against 1",
           expected="about the same: each clone stack freed", observed=f"{(forty - one) // 1024} MiB more")
