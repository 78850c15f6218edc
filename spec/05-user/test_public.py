"""Public cases of lab 05-user: `make check` in labs/05-user runs them.

What the driver reports is compared with what the kernel shows: the
/proc/PID/ns/user inodes, /proc/PID/uid_map and gid_map, /proc/PID/status
read from the machine's namespace and, through nsenter, from inside the
child's own user namespace.  Some cases run the driver as root, others as
the ordinary user `student` (uid 1000, gid 1001).
"""
import time

from harness.casekit import expect


def _show_map(entries) -> str:
    return " / ".join(" ".join(map(str, e)) for e in entries) or "(empty: not written)"


def test_child_in_new_userns(lab, userns):
    prog = userns.start("ids")
    userns.reported(prog, "spawned")
    child = userns.fn_process(prog)
    host_ns = lab.ns_of(1, "user")
    expect(lab.ns_of(child, "user") != host_ns, f"the user namespace of the child (PID {child})",
           expected=f"a new one, not the machine's ({host_ns})", observed=lab.ns_of(child, "user"))
    expect(lab.ns_of(prog.pid, "user") == host_ns, "the user namespace of the driver itself",
           expected=f"unchanged ({host_ns})", observed=lab.ns_of(prog.pid, "user"))
    setgroups = lab.read(f"/proc/{child}/setgroups").strip()
    expect(setgroups == "deny", f"/proc/{child}/setgroups", expected="deny", observed=setgroups)
    for name in ("uid_map", "gid_map"):
        entries = userns.read_map(child, name)
        expect(entries[:1] and entries[0][:2] == (0, 0), f"/proc/{child}/{name} of a child spawned by root",
               expected="a line mapping 0 inside to 0 (root's id) outside", observed=_show_map(entries))


def test_root_inside_real_outside(lab, userns):
    prog = userns.start("ids", student=True)
    userns.reported(prog, "spawned")
    child = userns.fn_process(prog)
    uid, gid = userns.STUDENT["uid"], userns.STUDENT["gid"]
    for name, outside in (("uid_map", uid), ("gid_map", gid)):
        entries = userns.read_map(child, name)
        expect(entries == [(0, outside, 1)], f"/proc/{child}/{name}, read from the machine's namespace",
               expected=f"0 {outside} 1", observed=_show_map(entries))
    out_uid, out_gid = userns.status_outside(child)
    expect(set(out_uid) == {uid} and set(out_gid) == {gid},
           f"Uid: and Gid: of /proc/{child}/status, read from the machine's namespace",
           expected=f"uid {uid}, gid {gid} (its real ids)", observed=f"uid {out_uid}, gid {out_gid}")
    in_uid, in_gid = userns.status_inside(child)
    expect(set(in_uid) == {0} and set(in_gid) == {0},
           f"Uid: and Gid: of /proc/{child}/status, read from inside its user namespace",
           expected="uid 0, gid 0", observed=f"uid {in_uid}, gid {in_gid}")


def test_child_waits_for_maps(lab, userns):
    prog = userns.start("stepwise", student=True)
    child = userns.pid_line(prog, "cloned")
    # The driver now holds until SIGUSR1: a child that does not wait for its
    # pipe has all this time to run the lab's function. 0.5 s is plenty
    # (the case is about what does NOT happen meanwhile).
    time.sleep(0.5)
    expect(userns.comm(child) != userns.FN_COMM, f"the cloned child (PID {child}) before its maps are written",
           expected="still waiting on its pipe", observed=f"it already runs the function (named {userns.FN_COMM})",
           hint="until uid_map is written it is nobody (65534) inside: it must wait for its parent")
    expect(lab.ns_of(child, "user") != lab.ns_of(1, "user"), f"the user namespace of the cloned child",
           expected="a new one", observed="the machine's")
    expect(userns.read_map(child, "uid_map") == [], f"/proc/{child}/uid_map before the parent maps it",
           expected="empty", observed=_show_map(userns.read_map(child, "uid_map")))
    in_uid, _ = userns.status_inside(child)
    expect(set(in_uid) == {65534}, f"the uid of PID {child} inside its namespace while unmapped",
           expected="65534 (the overflow uid)", observed=in_uid)

    userns.kill_usr1(prog)
    userns.reported(prog, "mapped")
    entries = userns.read_map(child, "uid_map")
    expect(entries == [(0, userns.STUDENT["uid"], 1)], f"/proc/{child}/uid_map once userns_map_root returned",
           expected=f"0 {userns.STUDENT['uid']} 1", observed=_show_map(entries))
    time.sleep(0.3)
    expect(userns.comm(child) != userns.FN_COMM, f"the child (PID {child}) once mapped but not yet released",
           expected="still waiting on its pipe", observed=f"it runs the function (named {userns.FN_COMM})")

    userns.kill_usr1(prog)
    userns.reported(prog, "released,")
    lab.eventually(lambda: userns.comm(child) == userns.FN_COMM, what=f"the released child (PID {child}) to run "
                   f"the function (it renames itself {userns.FN_COMM})")
    in_uid, in_gid = userns.status_inside(child)
    expect(set(in_uid) == {0} and set(in_gid) == {0}, f"the ids of PID {child} inside, once released",
           expected="uid 0, gid 0", observed=f"uid {in_uid}, gid {in_gid}")


def test_unprivileged_container(lab, userns):
    name = "lab05-container"
    before = lab.hostname()
    prog = userns.start("container", name, student=True)
    userns.reported(prog, "spawned")
    child = userns.fn_process(prog)
    for kind in ("user", "pid", "uts", "mnt"):
        mine, theirs = lab.ns_of(child, kind), lab.ns_of(prog.pid, kind)
        expect(mine != theirs, f"the {kind} namespace of the container's process (PID {child})",
               expected=f"a new one, not the driver's ({theirs})", observed=mine)
    nspid = lab.nspid(child)
    expect(len(nspid) == 2 and nspid[-1] == 1, f"NSpid in /proc/{child}/status",
           expected=f"{child} 1 (PID 1 of a new PID namespace)", observed=" ".join(map(str, nspid)))
    inside = userns.inside(child, "cat", "/proc/sys/kernel/hostname", kinds="-u").strip()
    expect(inside == name, "the host name inside the container's UTS namespace",
           expected=name, observed=inside or "(empty)")
    expect(lab.hostname() == before, "the machine's own host name", expected=f"unchanged ({before})",
           observed=lab.hostname())
    out_uid, _ = userns.status_outside(child)
    expect(set(out_uid) == {userns.STUDENT["uid"]}, f"the uid of PID {child} seen from the machine",
           expected=f"{userns.STUDENT['uid']}: an ordinary user, root only inside", observed=out_uid)
