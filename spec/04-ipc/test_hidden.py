"""Hidden cases of lab 04-ipc: the host's mount table, removal, rollback."""
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


def test_objects_removed(lab, ipcns):
    result, report = ipcns.run("roundtrip", ipcns.KEY)
    expect(result.exit == 0 and report.get("removed"), f"`ipcns roundtrip {ipcns.KEY}`",
           expected="created ..., used, removed", observed=ipcns.show(result.stdout) + f" ({result.describe()})")
    left = {kind: rows for kind, rows in ipcns.keyed().items() if rows}
    expect(not left, f"objects with key {ipcns.KEY:#x} on the machine once ipcns has ended (/proc/sysvipc/*)",
           expected="none: all three removed",
           observed=", ".join(f"a {kind} (id {rows[0].get('shmid', rows[0].get('msqid', rows[0].get('semid')))})"
                              for kind, rows in left.items()))


def test_create_rolls_back(lab, ipcns):
    # The key is taken for one kind only: ipcset_create must fail with EEXIST
    # and take back what it made of the other kinds, whatever its order.
    for taken in ("sem", "msg", "shm"):
        with ipcns.outside_objects(kinds=(taken,)) as ours:
            result, report = ipcns.run("roundtrip", ipcns.KEY)
            expect(result.exit == 1 and "EEXIST" in report.get("error", ""),
                   f"ipcset_create({ipcns.KEY:#x}) while the machine already has a {taken} object with that key",
                   expected="error: ipcset_create: EEXIST", observed=ipcns.show(result.stdout))
            now = ipcns.keyed()
            left = [f"a {kind}" for kind, rows in now.items() if kind != taken and rows]
            expect(not left, f"objects with key {ipcns.KEY:#x} on the machine after the failed ipcset_create "
                   f"(the {taken} was taken)", expected=f"only the case's {taken}",
                   observed="also " + ", ".join(left) + " left behind")
            idkey = {"shm": "shmid", "msg": "msqid", "sem": "semid"}[taken]
            expect([r[idkey] for r in now[taken]] == [ours[taken]], f"the case's own {taken} (id {ours[taken]})",
                   expected="still there, untouched", observed=f"{now[taken]}")
