"""Hidden cases of lab 03-mnt: the host left alone, a root created, no way
out of a pivoted root, and the other propagation types."""
import stat

from harness.casekit import CaseFailed, expect


def test_host_unchanged(lab, mnt):
    root = mnt.root()
    before = mnt.table()
    try:
        prog, child = mnt.container(root)
    except CaseFailed:
        # What leaked on the way matters more than the failure it led to.
        after = mnt.table()
        expect(after == before, "the machine's own mount table (/proc/1/mountinfo) after a container "
               "failed to start", expected="the same as before", observed=mnt.difference(before, after))
        raise
    during = mnt.table()
    expect(during == before, "the machine's own mount table (/proc/1/mountinfo) while a container runs",
           expected="the same as before it started", observed=mnt.difference(before, during))
    lab.run("kill", "-KILL", child)
    result = prog.finish(5.0)
    expect("signaled 9" in result.stdout, "what mntns reported once the case killed the container's PID 1",
           expected="signaled 9", observed=result.stdout.strip().splitlines()[-1:] or result.describe())
    after = mnt.table()
    expect(after == before, "the machine's own mount table (/proc/1/mountinfo) once the container has ended",
           expected="the same as before it started", observed=mnt.difference(before, after))


def test_chroot_creates_root(lab, mnt):
    (parent,) = mnt.mkdir("new")
    root = f"{parent}/root"
    prog, _ = mnt.held("chroot", root)
    try:
        st = lab.machine.lstat(root)
    except OSError:
        st = None
    expect(st is not None and stat.S_ISDIR(st.mode), f"{root}, missing before mnt_chroot",
           expected="a directory, created", observed="a directory" if st and stat.S_ISDIR(st.mode) else "missing")
    expect(st.mode & 0o7777 == 0o755, f"the mode of {root} as mnt_chroot created it",
           expected="0755 (rwxr-xr-x)", observed=f"{st.mode & 0o7777:04o}")
    for link in ("root", "cwd"):
        expect(mnt.same_dir(f"/proc/{prog.pid}/{link}", root), f"where /proc/{prog.pid}/{link} leads",
               expected=root, observed=mnt.where(f"/proc/{prog.pid}/{link}", {"the machine's /": "/",
                                                                              "the lab's folder": lab.out}))


def test_escape_proof(lab, mnt):
    root = mnt.root()
    prog, out = mnt.held("escape", "pivot", root)
    # Once out of its chroot, mntns reaches the top of its namespace's mount
    # tree: every mount the namespace holds is now in its mountinfo.
    theirs = lab.mounts(prog.pid)
    host = [m for m in theirs if m.point != "/"]
    expect(not host, "the mounts a process of the container reaches after the classic chroot escape "
           f"(/proc/{prog.pid}/mountinfo)", expected="none of the host's: they left the namespace with the old root",
           observed=mnt.describe(host))


def test_propagation_private(lab, mnt):
    ex = mnt.experiment("private")
    theirs = mnt.at(ex.theirs, ex.dir)
    expect(theirs.propagation == "private", f"{ex.dir} in the namespace of mntns, made private",
           expected="no tag (private)", observed=mnt.describe([theirs]))
    expect(mnt.at(ex.ours, ex.inside) is None, f"the tmpfs mntns mounted on {ex.inside}, in the machine's table",
           expected="absent", observed=mnt.describe([mnt.at(ex.ours, ex.inside)]))
    expect(mnt.at(ex.theirs, ex.outside) is None,
           f"the tmpfs the case mounted on {ex.outside} on the machine, in the table of mntns",
           expected="absent", observed=mnt.describe([mnt.at(ex.theirs, ex.outside)]))


def test_propagation_slave(lab, mnt):
    ex = mnt.experiment("slave")
    ours, theirs = mnt.at(ex.ours, ex.dir), mnt.at(ex.theirs, ex.dir)
    group = mnt.peer_group(ours)
    expect(mnt.peer_group(theirs, "master") == group and theirs.propagation == "slave",
           f"{ex.dir} in the namespace of mntns, made slave",
           expected=f"master:{group}, the peer group of the machine's", observed=mnt.describe([theirs]))
    expect(mnt.at(ex.theirs, ex.outside) is not None,
           f"the tmpfs the case mounted on {ex.outside} on the machine, in the table of mntns",
           expected="there: a slave receives its master's mounts", observed="missing")
    expect(mnt.at(ex.ours, ex.inside) is None, f"the tmpfs mntns mounted on {ex.inside}, in the machine's table",
           expected="absent: a slave's own mounts go nowhere", observed=mnt.describe([mnt.at(ex.ours, ex.inside)]))


def test_propagation_unbindable(lab, mnt):
    ex = mnt.experiment("unbindable")
    theirs = mnt.at(ex.theirs, ex.dir)
    expect(theirs.propagation == "unbindable", f"{ex.dir} in the namespace of mntns, made unbindable",
           expected="the unbindable tag", observed=mnt.describe([theirs]))
    expect(mnt.at(ex.theirs, ex.bound) is None and "refused" in ex.output,
           f"a bind mount of {ex.dir} on {ex.bound}, in the namespace of mntns",
           expected="refused (EINVAL)", observed=mnt.describe([mnt.at(ex.theirs, ex.bound)]))
    expect(mnt.at(ex.ours, ex.inside) is None and mnt.at(ex.theirs, ex.outside) is None,
           "mounts made on either side, seen on the other", expected="none: unbindable is private too",
           observed=mnt.describe([m for m in (mnt.at(ex.ours, ex.inside), mnt.at(ex.theirs, ex.outside)) if m]))
