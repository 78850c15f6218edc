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


def test_namespace_errors(lab, mnt):
    base = mnt.BASE
    (target,) = mnt.mkdir("mnt")
    result = mnt.run("isolate", target, uid=1000)
    mnt.expect_error(result, "mnt_new_namespace", "EPERM",
                     "mnt_new_namespace() run by an unprivileged user (uid 1000): unshare(2) refuses")
    before = mnt.table()
    # The type is checked before mount(2) is called: EINVAL, whatever the path
    # (here one that does not exist, on which mount(2) would say ENOENT).
    for bad in ("4", "-1"):
        result = mnt.run("prop", bad, f"{base}/missing")
        mnt.expect_error(result, "mnt_set_propagation", "EINVAL",
                         f"mnt_set_propagation({base}/missing) with the type {bad}, none of the four: refused "
                         "before mount(2) looks at the path")
    after = mnt.table()
    expect(after == before, "the machine's own mount table (/proc/1/mountinfo) after the refused types",
           expected="the same as before", observed=mnt.difference(before, after))


def test_chroot_errors(lab, mnt):
    base = mnt.BASE
    missing = f"{base}/missing/root"
    result = mnt.run("chroot", missing)
    mnt.expect_error(result, "mnt_chroot", "ENOENT", f"mnt_chroot({missing}): its parent does not exist")
    expect(not lab.exists(f"{base}/missing"), f"{base}/missing after that", expected="still missing: "
           "only the root itself is created", observed="created")
    lab.sh(f"echo not a folder > {base}/file")
    result = mnt.run("chroot", f"{base}/file")
    mnt.expect_error(result, "mnt_chroot", "ENOTDIR", f"mnt_chroot({base}/file), a regular file: chroot(2) refuses")


def _pivot_refused_or_clean(lab, mnt, root: str, errno_name: str, what: str) -> None:
    """mnt_pivot_root(root) where pivot_root(2) cannot put the old root in
    ROOT/.oldroot: refused with errno_name.  A solution that needs no such
    folder (pivot_root(".", "."), an accepted alternative) succeeds: then
    nothing of the host may be left."""
    prog, out = mnt.held("pivot", root, error_ok=True)
    said = next((line for line in out.splitlines() if line.startswith("error:")), None)
    if said is not None:
        wanted = f"error: mnt_pivot_root returned -1, errno {errno_name} "
        expect(said.startswith(wanted), f"mnt_pivot_root({root}) {what}", expected=wanted + "(...)", observed=said)
        return
    left = [m for m in lab.mounts(prog.pid) if m.point != "/"]
    expect(not left, f"mnt_pivot_root({root}) {what}, succeeded: the mounts mntns sees "
           f"(/proc/{prog.pid}/mountinfo)", expected="the new root alone", observed="also " + mnt.describe(left))


def test_pivot_errors(lab, mnt):
    base = mnt.BASE
    result = mnt.run("pivot", f"{base}/missing")
    mnt.expect_error(result, "mnt_pivot_root", "ENOENT", f"mnt_pivot_root({base}/missing), which does not exist")
    lab.sh(f"echo not a folder > {base}/file")
    result = mnt.run("pivot", f"{base}/file")
    mnt.expect_error(result, "mnt_pivot_root", "ENOTDIR", f"mnt_pivot_root({base}/file), a regular file")
    blocked = mnt.root("blocked")
    lab.sh(f"echo in the way > {blocked}/.oldroot")
    _pivot_refused_or_clean(lab, mnt, blocked, "ENOTDIR", "where .oldroot is a file")
    lab.sh(f"mkdir {base}/ro && mount -t tmpfs ro {base}/ro")
    readonly = mnt.root("ro/root")
    lab.sh(f"mount -o remount,ro {base}/ro")
    _pivot_refused_or_clean(lab, mnt, readonly, "EROFS", "on a read-only file system, where no .oldroot can be made")
    ready = mnt.root("ready")
    lab.sh(f"mkdir {ready}/.oldroot")
    prog, _ = mnt.held("pivot", ready)
    left = [m for m in lab.mounts(prog.pid) if m.point != "/"]
    expect(not left, f"mnt_pivot_root({ready}) where .oldroot is already an empty folder (EEXIST is fine): "
           f"the mounts mntns sees (/proc/{prog.pid}/mountinfo)", expected="the new root alone",
           observed="also " + mnt.describe(left))


def test_pivot_old_root_private(lab, mnt):
    base = mnt.BASE
    # A root on a private mount, so that pivot_root(2) accepts it from a plain
    # copy of the machine's namespace, where /tmp/m03 and the mounts below it
    # are still peers of the machine's.
    lab.sh(f"mkdir {base}/priv {base}/keep && mount -t tmpfs priv {base}/priv && mount --make-private {base}/priv"
           f" && mount -t tmpfs keep {base}/keep")
    root = mnt.root("priv/root")
    before = mnt.table()
    prog, _ = mnt.held("pivot-copy", root)
    left = [m for m in lab.mounts(prog.pid) if m.point != "/"]
    expect(not left, f"the mounts mntns still sees after mnt_pivot_root (/proc/{prog.pid}/mountinfo)",
           expected="the new root alone", observed="also " + mnt.describe(left))
    after = mnt.table()
    expect(after == before, "the machine's own mount table (/proc/1/mountinfo) once mnt_pivot_root has detached "
           "an old root whose mounts were peers of the machine's",
           expected=f"the same as before: {base}/keep and {base}/priv still mounted (the old root made private "
                    "first, recursively, so that its unmount stays in the namespace)",
           observed=mnt.difference(before, after))


def test_container_setup_fails(lab, mnt):
    base = mnt.BASE
    steps = {"a root that does not exist": f"{base}/missing"}
    for name, remove in (("noproc", "proc"), ("nodev", "dev")):
        root = mnt.root(name)
        lab.sh(f"rm -rf {root}/{remove}")
        steps[f"a root without /{remove}"] = root
    for what, root in steps.items():
        result = mnt.run("container", root)
        last = result.stdout.strip().splitlines()[-1:] or ["nothing"]
        expect("exited 125" in result.stdout and "No such file or directory" in result.stderr,
               f"`mntns container` with {what}: how its first process ended (waitpid), and what it said",
               expected="exited 125 (MNT_SETUP_FAILED), the step and strerror(errno) on stderr",
               observed=f"{last[0]}; stderr: {result.stderr.strip() or 'nothing'}")
    root = mnt.root()
    result = mnt.run("container", root, "/no/such/command")
    expect("exited 127" in result.stdout, "`mntns container ROOT /no/such/command`: the container's exit code",
           expected="exited 127, what fn returned (the command could not be run)",
           observed=result.stdout.strip().splitlines()[-1:] or result.describe())
    result = mnt.run("container", root, uid=1000)
    mnt.expect_error(result, "mnt_container_spawn", "EPERM",
                     "mnt_container_spawn() by an unprivileged user (uid 1000): clone(2) refuses")


def test_container_stack_freed(lab, mnt):
    root = mnt.root()

    def vm_size(n: int) -> int:
        prog, _ = mnt.held("containers", n, root, timeout=20.0)
        kb = int(lab.status(prog.pid)["VmSize"].split()[0])
        prog.signal(9)
        prog.finish(5.0)
        return kb
    one, eight = vm_size(1), vm_size(8)
    expect(eight - one < 4 * 1024, "the driver's virtual memory (VmSize in /proc/PID/status) after 8 containers, "
           "against 1", expected="about the same: each clone stack freed once clone() returned",
           observed=f"{(eight - one) // 1024} MiB more")


def test_dev_errors(lab, mnt):
    base = mnt.BASE
    result = mnt.run("dev", f"{base}/missing")
    mnt.expect_error(result, "mnt_populate_dev", "ENOENT", f"mnt_populate_dev({base}/missing), which does not exist")
    # In a user namespace mknod(2) is refused (EPERM).  A solution that
    # bind-mounts the host's nodes instead (an accepted alternative) succeeds:
    # then the six devices must be there, each the right one.
    (dev,) = mnt.mkdir("dev")
    prog, out = mnt.held("dev", dev, error_ok=True, wrapper=("/usr/bin/unshare", "--user", "--map-root-user"))
    said = next((line for line in out.splitlines() if line.startswith("error:")), None)
    if said is not None:
        wanted = "error: mnt_populate_dev returned -1, errno EPERM "
        expect(said.startswith(wanted), "mnt_populate_dev() in a user namespace, where mknod(2) is refused",
               expected=wanted + "(...)", observed=said)
    else:
        # Relative paths from /proc/PID/root: resolved in mntns's own mounts.
        here = dev.lstrip("/")
        wanted = [f"{here}/{n} character special file {major:x}:{minor:x}"
                  for n, (major, minor) in mnt.DEV_NODES.items()]
        names = " ".join(f"{here}/{n}" for n in mnt.DEV_NODES)
        seen = lab.sh(f"cd /proc/{prog.pid}/root && stat -c '%n %F %t:%T' {names} 2>&1 || true").stdout
        expect(seen.strip().splitlines() == wanted,
               "mnt_populate_dev() in a user namespace succeeded: the devices it made, as the machine sees them "
               f"(stat in /proc/{prog.pid}/root)", expected=" | ".join(wanted),
               observed=" | ".join(seen.strip().splitlines()))
    # DIR/null is exactly PATH_MAX (4096) characters: with its NUL, one byte
    # more than a PATH_MAX buffer holds.
    deep = mnt.deep_dir(4096 - len("/null"))
    prog, out = mnt.held("dev", deep, error_ok=True)
    said = next((line for line in out.splitlines() if line.startswith("error:")), "no error")
    expect(said.startswith("error: mnt_populate_dev returned -1, errno ENAMETOOLONG "),
           f"mnt_populate_dev() on a folder whose path is {len(deep)} characters long: DIR/null does not fit in "
           "PATH_MAX bytes",
           expected="error: mnt_populate_dev returned -1, errno ENAMETOOLONG (...)", observed=said)
    names = mnt.deep_listing(prog.pid, deep)
    expect(not names, "that folder, in the namespace of mntns, after the refusal",
           expected="empty: no node made under a name cut short", observed=names)
