"""Public cases of lab 03-mnt: `make check` in labs/03-mnt runs them.

What mntns reports is compared with what the kernel shows from outside: the
machine's own mount table (/proc/1/mountinfo), the mount table of the
student's process (/proc/PID/mountinfo), and where its root and working
directory lead (/proc/PID/root, /proc/PID/cwd).
"""
import stat

from harness.casekit import expect


def test_isolated_namespace(lab, mnt):
    (target,) = mnt.mkdir("mnt")
    before = mnt.table()
    prog, _ = mnt.held("isolate", target)
    expect(lab.ns_of(prog.pid, "mnt") != lab.ns_of(1, "mnt"), "the mount namespace of mntns against the machine's",
           expected="two different inodes", observed=f"both {lab.ns_of(1, 'mnt')}")
    theirs = lab.mounts(prog.pid)
    inner = mnt.at(theirs, target)
    expect(inner is not None and inner.fstype == "tmpfs", f"the tmpfs mntns mounted on {target}, in its own table",
           expected=f"a tmpfs on {target}", observed=mnt.describe([inner]) if inner else "no mount there")
    shared = [m for m in theirs if m.propagation == "shared"]
    expect(not shared, f"the propagation of every mount in the new namespace (/proc/{prog.pid}/mountinfo)",
           expected="private (or slave) from / down: no shared:N tag left",
           observed="still shared: " + mnt.describe(shared))
    after = mnt.table()
    expect(after == before, "the machine's own mount table (/proc/1/mountinfo) while mntns holds its namespace",
           expected=f"the same as before: no {target} there, /tmp/m03 still shared",
           observed=mnt.difference(before, after))


def test_chroot_enters_root(lab, mnt):
    root = mnt.root()
    prog, _ = mnt.held("chroot", root)
    places = {f"{root} (the new root)": root, "the machine's /": "/", "the lab's folder": lab.out}
    where_root = mnt.where(f"/proc/{prog.pid}/root", places)
    expect(mnt.same_dir(f"/proc/{prog.pid}/root", root), f"where /proc/{prog.pid}/root leads",
           expected=root, observed=where_root)
    where_cwd = mnt.where(f"/proc/{prog.pid}/cwd", places)
    expect(mnt.same_dir(f"/proc/{prog.pid}/cwd", root),
           f"where the working directory of mntns leads after mnt_chroot (/proc/{prog.pid}/cwd)",
           expected=f"{root}, the new / (chdir(\"/\") after chroot)", observed=where_cwd)


def test_pivot_hides_host(lab, mnt):
    root = mnt.root()
    listing = sorted(lab.machine.listdir(root))
    prog, _ = mnt.held("pivot", root)
    theirs = lab.mounts(prog.pid)
    left = [m for m in theirs if m.point != "/"]
    expect(not left, f"the mounts mntns still sees after mnt_pivot_root (/proc/{prog.pid}/mountinfo)",
           expected="the new root alone", observed="also " + mnt.describe(left))
    places = {f"{root} (the new root)": root, "the lab's folder": lab.out}
    expect(mnt.same_dir(f"/proc/{prog.pid}/root", root), f"where /proc/{prog.pid}/root leads",
           expected=root, observed=mnt.where(f"/proc/{prog.pid}/root", places))
    expect(mnt.same_dir(f"/proc/{prog.pid}/cwd", root),
           f"where the working directory of mntns leads (/proc/{prog.pid}/cwd)",
           expected="the new /", observed=mnt.where(f"/proc/{prog.pid}/cwd", places))
    inside = sorted(lab.machine.listdir(f"/proc/{prog.pid}/root"))
    expect(inside == listing, "what the new / holds, against the root file system before the pivot",
           expected=" ".join(listing), observed=" ".join(inside))


def test_container_proc_private(lab, mnt):
    root = mnt.root()
    prog, child = mnt.container(root)
    nspid = lab.nspid(child)
    expect(len(nspid) == 2 and nspid[1] == 1, f"NSpid in /proc/{child}/status: the container's first process",
           expected=f"{child} 1 (PID 1 of a new PID namespace)", observed=" ".join(map(str, nspid)))
    proc = mnt.at(lab.mounts(child), "/proc")
    expect(proc is not None and proc.fstype == "proc", "what is mounted on the container's /proc",
           expected="a proc file system", observed=mnt.describe([proc]) if proc else "nothing")
    pids = mnt.pids(lab.machine.listdir(f"/proc/{child}/root/proc"))
    expect(pids == [1], "the processes the container's /proc lists (read from outside, through "
           f"/proc/{child}/root/proc)", expected="1: the container's own process, nothing of the machine",
           observed=f"{len(pids)} processes: " + " ".join(map(str, pids[:12])) + (" ..." if len(pids) > 12 else ""))


def test_container_dev(lab, mnt):
    root = mnt.root()
    prog, child = mnt.container(root)
    dev = f"/proc/{child}/root/dev"
    on_dev = mnt.at(lab.mounts(child), "/dev")
    expect(on_dev is not None and on_dev.fstype == "tmpfs", "what is mounted on the container's /dev",
           expected="a tmpfs of its own", observed=mnt.describe([on_dev]) if on_dev else "nothing: the root's own folder")
    names = sorted(lab.machine.listdir(dev))
    missing = sorted((set(mnt.DEV_NODES) | set(mnt.DEV_LINKS)) - set(names))
    expect(not missing, "the container's /dev", expected=" ".join(sorted({*mnt.DEV_NODES, *mnt.DEV_LINKS})),
           observed=f"no {', '.join(missing)} (it holds: {' '.join(names) or 'nothing'})")
    extra = sorted(set(names) - set(mnt.DEV_NODES) - set(mnt.DEV_LINKS) - {"pts", "shm", "ptmx", "mqueue", "console"})
    expect(not extra, "the container's /dev holds nothing else of the host's devices",
           expected="the six devices and four links", observed="also " + " ".join(extra[:15]))
    for name, (major, minor) in mnt.DEV_NODES.items():
        st = lab.machine.lstat(f"{dev}/{name}")
        expect(stat.S_ISCHR(st.mode) and (st.rdev_major, st.rdev_minor) == (major, minor),
               f"/dev/{name} in the container", expected=f"character device {major},{minor}",
               observed=(f"character device {st.rdev_major},{st.rdev_minor}" if stat.S_ISCHR(st.mode)
                         else f"not a character device (mode {st.mode:o})"))
        expect(st.mode & 0o7777 == 0o666, f"the mode of /dev/{name} in the container",
               expected="0666: every user may use it", observed=f"{st.mode & 0o7777:04o}")
    for name, target in mnt.DEV_LINKS.items():
        st = lab.machine.lstat(f"{dev}/{name}")
        link = lab.machine.readlink(f"{dev}/{name}") if stat.S_ISLNK(st.mode) else "not a link"
        expect(link == target, f"/dev/{name} in the container", expected=f"a link to {target}", observed=link)
    written = sorted(lab.machine.listdir(f"{root}/dev"))
    expect(not written, f"the root file system's own dev folder ({root}/dev, seen from the machine)",
           expected="still empty: the nodes live on the container's tmpfs", observed=" ".join(written))


def test_propagation_shared(lab, mnt):
    ex = mnt.experiment("shared")
    ours, theirs = mnt.at(ex.ours, ex.dir), mnt.at(ex.theirs, ex.dir)
    expect(mnt.peer_group(theirs) is not None and mnt.peer_group(theirs) == mnt.peer_group(ours),
           f"{ex.dir} in the namespace of mntns, made shared", expected=f"shared:{mnt.peer_group(ours)}, "
           "the peer group of the machine's", observed=mnt.describe([theirs]))
    expect(mnt.at(ex.ours, ex.inside) is not None, f"the tmpfs mntns mounted on {ex.inside}, in the machine's table",
           expected="there: a shared mount passes mounts to its peers", observed="missing")
    expect(mnt.at(ex.theirs, ex.outside) is not None,
           f"the tmpfs the case mounted on {ex.outside} on the machine, in the table of mntns",
           expected="there", observed="missing")
