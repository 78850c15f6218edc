"""Public cases of lab 10-container: `make check` in labs/10-container runs them.

ctr runs as root on the grading machine; each case compares what the
container's command did with what the kernel shows from outside: the init's
/proc/PID/ns inodes, status and mountinfo, the image and the upper layer on
disk, the links and addresses of both ends of the veth pair.
"""
from harness.casekit import expect, expect_exit


def test_exit_code_returned(lab, ctr):
    for name, cmd, code in (("e", ("sh", "-c", "exit 3"), 3), ("e-k9", ("sh", "-c", "kill -9 $$"), 137)):
        r = ctr.run(name, *cmd)
        expect(r.exit == code and not r.timed_out, f"the exit status of `ctr run -- {' '.join(cmd)}`",
               expected=f"{code}" + (" (128 + 9: the command was killed by SIGKILL)" if code == 137 else ""),
               observed=r.describe() + (f"; stderr: {r.stderr.strip()}" if r.stderr.strip() else ""))
        expect(not r.stderr.strip(), f"what `ctr run -- {' '.join(cmd)}` printed on stderr",
               expected="nothing: nothing failed", observed=r.stderr.strip())
    for name, cmd, code, why, text in (
            ("e-nf", "nothere", 127, "not found", "No such file or directory"),
            ("e-nx", "/etc/passwd", 126, "found but not executable", "Permission denied")):
        r = ctr.run(name, cmd)
        said = r.stderr.strip()
        expect(r.exit == code and text in said, f"`ctr run -- {cmd}`: the command is {why}",
               expected=f"exit status {code}, and exec's error on stderr ('{text}')",
               observed=f"{r.describe()}; stderr: {said or 'nothing'}")
        ctr.said(r, f"-- {cmd}", text, {cmd, name})


def test_ps_sees_only_container(lab, ctr):
    prog, init, said = ctr.parked("p1", "ps -o pid,comm; echo ready; exec sleep 60")
    rows = [line.split() for line in said.splitlines()[1:] if line.split() and line.split()[0].isdigit()]
    pids = sorted(int(row[0]) for row in rows)
    expect(pids == [1, 2, 3], "the PIDs ps lists inside the container (its /proc)",
           expected="1 (the init), 2 (sh, the command), 3 (ps)", observed=", ".join(map(str, pids)) or said)
    nspid = lab.nspid(init)
    expect(nspid[-1] == 1, f"NSpid of the container's init (host PID {init})", expected=f"{init} 1",
           observed=" ".join(map(str, nspid)))
    members = ctr.members(init)
    expect(len(members) == 2, "processes in the container's PID namespace, seen from outside",
           expected="2: the init and the sleeping command", observed=f"{len(members)}: PIDs {members}")
    command = next((p for p in lab.children(init)), None)
    expect(command is not None and command.comm == "sleep", f"the child of the init (PID {init})",
           expected="the command, sleep", observed=command.comm if command else "none")


def test_namespaces_all_new(lab, ctr):
    before = lab.hostname()
    hostname = "h" * 63 + "9"           # 64 characters: the longest a host name may be
    script = "read h < /proc/sys/kernel/hostname; echo \"hostname $h\"; echo ready; exec sleep 60"
    prog, init, said = ctr.parked("n1", script, opts=("--hostname", hostname))
    outside, inside = lab.ns(prog.pid), lab.ns(init)
    kinds = ("pid", "uts", "mnt", "ipc", "net", "cgroup")
    same = [k for k in kinds if outside.get(k) == inside.get(k)]
    expect(not same, f"the namespaces of the init (PID {init}) against ctr's (PID {prog.pid})",
           expected="new " + ", ".join(kinds), observed="the same inode for " + ", ".join(same))
    command = lab.children(init)
    kid = lab.ns(command[0].pid) if command else {}
    differ = [k for k in kinds if kid.get(k) != inside.get(k)]
    expect(command and not differ, "the namespaces of the command against its init's",
           expected="the same, all of them", observed="different " + ", ".join(differ) if command else "no command")
    seen = next((line.split(" ", 1)[1] for line in said.splitlines() if line.startswith("hostname ")), "")
    expect(seen == hostname, "the host name in the container (read by its command)",
           expected=hostname, observed=seen)
    expect(lab.hostname() == before, "the machine's own host name", expected=before, observed=lab.hostname())


def test_root_is_overlay(lab, ctr):
    prog, init, _ = ctr.parked("r1")
    mounts = lab.mounts(init)
    by_point = {m.point: m for m in mounts}
    root = by_point.get("/")
    expect(root is not None and root.fstype == "overlay",
           f"the mount at / in the container (/proc/{init}/mountinfo)", expected="an overlay",
           observed=f"{root.fstype} from {root.source}" if root else "no mount at /")
    lines = lab.read(f"/proc/{init}/mountinfo").splitlines()
    root_line = next((line for line in lines if line.split()[4] == "/"), "")
    layers = f"lowerdir={ctr.IMAGE},upperdir={ctr.STATE}/r1/upper,workdir={ctr.STATE}/r1/work"
    expect(layers in root_line, "the overlay's layers", expected=layers, observed=root_line)
    kinds = {p: by_point[p].fstype for p in ("/proc", "/dev") if p in by_point}
    expect(kinds == {"/proc": "proc", "/dev": "tmpfs"}, "what is mounted on /proc and /dev in the container",
           expected="proc on /proc, tmpfs on /dev", observed=kinds or "neither")
    others = sorted(m.point for m in mounts if m.point not in ("/", "/proc", "/dev"))
    expect(not others, "other mounts in the container: the old root must be gone", expected="none",
           observed=", ".join(others))
    root_dir = f"/proc/{init}/root"
    expect(".oldroot" not in lab.machine.listdir(root_dir), "the container's /", expected="no .oldroot left",
           observed=", ".join(sorted(lab.machine.listdir(root_dir))))
    dev = set(lab.machine.listdir(f"{root_dir}/dev"))
    wanted = set(ctr.DEVICES) | set(ctr.LINKS)
    expect(dev == wanted, "the container's /dev", expected=", ".join(sorted(wanted)),
           observed=", ".join(sorted(dev)))
    for node, (major, minor) in ctr.DEVICES.items():
        st = lab.machine.lstat(f"{root_dir}/dev/{node}")
        seen = (oct(st.mode), st.rdev_major, st.rdev_minor)
        expect(st.mode == 0o20666 and (st.rdev_major, st.rdev_minor) == (major, minor),
               f"the container's /dev/{node}", expected=f"a character device {major}, {minor}, mode 666",
               observed=f"mode {seen[0]}, device {seen[1]}, {seen[2]}")
    for link, target in ctr.LINKS.items():
        seen = lab.machine.readlink(f"{root_dir}/dev/{link}")
        expect(seen == target, f"the container's /dev/{link}", expected=f"a link to {target}", observed=seen)
    for path, mode in ((ctr.STATE, 0o755), (f"{ctr.STATE}/r1", 0o700), (f"{ctr.STATE}/r1/upper", 0o755),
                       (f"{ctr.STATE}/r1/work", 0o700), (f"{ctr.STATE}/r1/merged", 0o755)):
        st = lab.machine.lstat(path)
        expect(st.mode == 0o40000 | mode, f"the folder {path}, made by ctr run", expected=f"mode {mode:o}",
               observed=f"mode {st.mode & 0o7777:o}")


def test_writes_land_in_upper(lab, ctr):
    r = ctr.run("w1", "sh", "-c", "echo hello > /hello && rm /etc/hostname && echo x >> /etc/passwd")
    expect_exit(r, 0, "`ctr run` of a command writing, deleting and appending should exit with 0")
    upper = f"{ctr.STATE}/w1/upper"
    expect(lab.exists(f"{upper}/hello") and lab.read(f"{upper}/hello") == "hello\n",
           "the file /hello the container wrote", expected=f"in the upper layer, {upper}/hello",
           observed="there" if lab.exists(f"{upper}/hello") else "not there")
    st = lab.machine.lstat(f"{upper}/etc/hostname") if lab.exists(f"{upper}/etc/hostname") else None
    expect(st is not None and st.mode & 0o170000 == 0o020000 and (st.rdev_major, st.rdev_minor) == (0, 0),
           "what deleting /etc/hostname left in the upper layer",
           expected="a whiteout: a character device 0/0", observed=oct(st.mode) if st else "nothing")
    passwd = lab.read(f"{ctr.IMAGE}/etc/passwd")
    expect(lab.read(f"{upper}/etc/passwd") == passwd + "x\n", "/etc/passwd in the upper layer",
           expected="a copy of the image's, with the line appended", observed=lab.read(f"{upper}/etc/passwd")[-40:])
    changed = ctr.image_changes()
    expect(not changed, f"the image ({ctr.IMAGE}) after the container ran", expected="unchanged",
           observed="modified: " + ", ".join(changed[:6]))


def test_pings_host(lab, ctr):
    name = "az09-pingnet"               # 12 characters: the longest name, veth ends of 15
    host, peer = f"vh-{name}", f"vc-{name}"
    script = f"ping -c 1 -W 3 10.200.0.1 >/dev/null && echo pinged; ip -o addr show dev {peer}; echo ready; exec sleep 60"
    prog, init, said = ctr.parked(name, script, opts=("--net", "10.200.0.1,10.200.0.2/24"))
    expect("pinged" in said, "`ping -c 1 10.200.0.1` in the container (the host end of the veth pair)",
           expected="an answer", observed="none: " + said.strip())
    inside = [line for line in said.splitlines() if " inet " in line]
    expect(len(inside) == 1 and "inet 10.200.0.2/24" in inside[0],
           f"the addresses of {peer} in the container (`ip -o addr show dev {peer}`, run by its command)",
           expected="10.200.0.2/24", observed=" / ".join(inside) or said.strip())
    flags = int(lab.read(f"/sys/class/net/{host}/flags"), 16) if lab.exists(f"/sys/class/net/{host}") else None
    expect(flags is not None and flags & 1, f"the host end {host}", expected="up",
           observed="down" if flags is not None else "no such link on the machine")
    r = lab.run(ctr.IP, "-j", "addr", "show", "dev", host)
    expect(r.exit == 0 and '"local":"10.200.0.1","prefixlen":24' in r.stdout,
           f"the addresses of {host} (ip -j addr show dev {host})",
           expected="10.200.0.1/24", observed=r.stdout.strip() or r.stderr.strip())
    on_host = lab.machine.listdir("/sys/class/net")
    expect(peer not in on_host, "the links of the machine", expected=f"{host} but not {peer}",
           observed=", ".join(on_host))
