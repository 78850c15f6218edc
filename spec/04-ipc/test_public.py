"""Public cases of lab 04-ipc: `make check` in labs/04-ipc runs them.

What ipcns reports is compared with what the kernel shows from outside: the
/proc/PID/ns inodes, the System V tables /proc/sysvipc/* of each namespace,
and the mqueue directories of the machine and of the payload.
"""
from harness.casekit import expect



def test_own_ipc_namespace(lab, ipcns):
    prog, child, report = ipcns.start_held("isolated", ipcns.KEY)
    for kind in ("ipc", "mnt"):
        host, mine = lab.ns_of(1, kind), lab.ns_of(child, kind)
        expect(mine != host, f"the {kind} namespace of the payload (PID {child}) against the machine's",
               expected="a new namespace: two different inodes", observed=f"both {mine}")
        expect(lab.ns_of(prog.pid, kind) == host, f"the driver's own {kind} namespace after ipcns_spawn",
               expected=f"unchanged ({host})", observed=lab.ns_of(prog.pid, kind))
    expect("created" in report, "the payload, creating its objects under a key nobody uses",
           expected="inside created shm ... msg ... sem ...", observed=report.get("error", "nothing"))


def test_outside_key_unreachable(lab, ipcns):
    with ipcns.outside_objects():
        prog, child, report = ipcns.start_held("isolated", ipcns.KEY)
        expect(report.get("found") == 0, f"what ipcset_open({ipcns.KEY:#x}) found inside the new IPC namespace, "
               "while the machine has a segment, a queue and a semaphore set under that key",
               expected="inside found 0", observed=f"found {report['found']}" if "found" in report
               else report.get("error", "nothing"),
               hint="found 3: the payload is in the machine's IPC namespace" if report.get("found") == 3 else "")
        expect("created" in report, "ipcset_create with the same key, inside",
               expected="inside created shm ... msg ... sem ...", observed=report.get("error", "nothing"))
        inside = ipcns.keyed(child)
        # What the kernel lists inside under ipcns.KEY must be the payload's own objects only.
        shm, msg, sem = inside["shm"], inside["msg"], inside["sem"]
        expect(len(shm) == 1 and shm[0]["size"] == 4096 and shm[0]["cpid"] == child,
               f"segments with key {ipcns.KEY:#x} in the payload's namespace (nsenter -t {child} -i cat /proc/sysvipc/shm)",
               expected=f"one: the payload's (4096 bytes, created by PID {child})",
               observed=", ".join(f"{r['size']} bytes by PID {r['cpid']}" for r in shm) or "none")
        expect(len(msg) == 1 and msg[0]["lspid"] == child and msg[0]["qnum"] == 1,
               f"message queues with key {ipcns.KEY:#x} in the payload's namespace",
               expected=f"one: the payload's (1 message, sent by PID {child})",
               observed=", ".join(f"{r['qnum']} messages, last sent by PID {r['lspid']}" for r in msg) or "none")
        expect(len(sem) == 1 and sem[0]["nsems"] == 1, f"semaphore sets with key {ipcns.KEY:#x} in the payload's namespace",
               expected="one: the payload's (1 semaphore)",
               observed=", ".join(f"{r['nsems']} semaphores" for r in sem) or "none")


def test_same_key_both_sides(lab, ipcns):
    with ipcns.outside_objects() as ours:
        prog, child, report = ipcns.start_held("isolated", ipcns.KEY)
        expect("created" in report and "error" not in report,
               "the payload creating and using its own objects under the key the machine uses",
               expected="inside created ..., inside used", observed=ipcns.show(prog.output()))
        outside = ipcns.keyed()
        for kind, rows in outside.items():
            expect([r[kind + "id" if kind != "msg" else "msqid"] for r in rows] == [ours[kind]],
                   f"{kind} objects with key {ipcns.KEY:#x} on the machine (/proc/sysvipc/{kind})",
                   expected=f"only the case's own, id {ours[kind]}",
                   observed=", ".join(str(r) for r in rows) or "none: it was removed")
        shm, msg, sem = outside["shm"][0], outside["msg"][0], outside["sem"][0]
        expect(shm["nattch"] == 0 and shm["lpid"] == 0, "the machine's segment under the key",
               expected="never attached", observed=f"{shm['nattch']} attached, last by PID {shm['lpid']}")
        expect(msg["qnum"] == ipcns.OUTSIDE["msg"] and msg["lrpid"] == 0, "the machine's message queue under the key",
               expected=f"its {ipcns.OUTSIDE['msg']} messages, none received",
               observed=f"{msg['qnum']} messages, last received by PID {msg['lrpid']}")
        expect(sem["otime"] == 0, "the machine's semaphore set under the key", expected="never operated on",
               observed=f"last semop at {sem['otime']}")
        inside = ipcns.keyed(child)
        expect(len(inside["shm"]) == 1 and inside["shm"][0]["nattch"] == 1 and len(inside["msg"]) == 1
               and inside["msg"][0]["qnum"] == 1, "the payload's own objects, in its namespace",
               expected="its segment attached once, its queue holding 1 message",
               observed=f"{inside['shm']} {inside['msg']}")


def test_mqueue_fresh(lab, ipcns):
    with ipcns.outside_mqueue("lab04-outside"):
        prog, child, report = ipcns.start_held("mqueue", "lab04-inside")
        expect(report.get("queues") == [], f"what the payload listed in its {ipcns.MQUEUE}, while the machine's "
               "holds the queue lab04-outside", expected="inside queues: (none)",
               observed=" ".join(report["queues"]) if "queues" in report else report.get("error", "nothing"))
        seen = sorted(lab.machine.listdir(f"/proc/{child}/root{ipcns.MQUEUE}"))
        expect(seen == ["lab04-inside"], f"the payload's {ipcns.MQUEUE} (listed through /proc/{child}/root)",
               expected="lab04-inside only: the queue it created, none of the machine's",
               observed=" ".join(seen) or "(empty)")
        here = sorted(lab.machine.listdir(ipcns.MQUEUE))
        expect(here == ["lab04-outside"], f"the machine's {ipcns.MQUEUE}", expected="lab04-outside only",
               observed=" ".join(here) or "(empty)")
