"""Public cases of lab 10-container: `make check` in labs/10-container runs them.

ctr runs as root on the grading machine; each case compares what the
container's command did with what the kernel shows from outside: the init's
/proc/PID/ns inodes and mountinfo, the image and the upper layer on disk, the
links and addresses of both ends of the veth pair.
"""
from harness.casekit import expect, expect_exit


def test_exit_code_returned(lab, ctr):
    for name, cmd, code in (("e1", ("sh", "-c", "exit 3"), 3), ("e2", ("true",), 0),
                            ("e3", ("sh", "-c", "kill -9 $$"), 137)):
        r = ctr.run(name, *cmd)
        expect(r.exit == code and not r.timed_out, f"the exit status of `ctr run -- {' '.join(cmd)}`",
               expected=f"{code}" + (" (128 + 9: the command was killed by SIGKILL)" if code == 137 else ""),
               observed=r.describe() + (f"; stderr: {r.stderr.strip()}" if r.stderr.strip() else ""))


def test_ps_sees_only_container(lab, ctr):
    r = ctr.run("p1", "ps", "-o", "pid,comm")
    expect_exit(r, 0, "`ctr run -- ps -o pid,comm` should exit with 0")
    pids = sorted(int(line.split()[0]) for line in r.stdout.splitlines()[1:] if line.split())
    expect(1 in pids and len(pids) <= 3 and max(pids) < 10,
           "the PIDs ps lists inside the container (its /proc)",
           expected="the init (PID 1) and ps itself: two or three small PIDs",
           observed=", ".join(map(str, pids)) or r.stdout.strip() or "nothing")
    prog, init = ctr.parked("p2")
    nspid = lab.nspid(init)
    expect(nspid[-1] == 1, f"NSpid of the container's init (host PID {init})", expected=f"{init} 1",
           observed=" ".join(map(str, nspid)))
    members = ctr.members(init)
    expect(len(members) == 2, "processes in the container's PID namespace, seen from outside",
           expected="2: the init and the sleeping command", observed=f"{len(members)}: PIDs {members}")


def test_namespaces_all_new(lab, ctr):
    before = lab.hostname()
    prog, init = ctr.parked("n1", opts=("--hostname", "matrix"))
    outside, inside = lab.ns(prog.pid), lab.ns(init)
    kinds = ("pid", "uts", "mnt", "ipc", "net", "cgroup")
    same = [k for k in kinds if outside.get(k) == inside.get(k)]
    expect(not same, f"the namespaces of the init (PID {init}) against ctr's (PID {prog.pid})",
           expected="new " + ", ".join(kinds), observed="the same inode for " + ", ".join(same))
    seen = lab.run(ctr.NSENTER, "-t", init, "-u", "cat", "/proc/sys/kernel/hostname").stdout.strip()
    expect(seen == "matrix", f"the host name in the container's UTS namespace (nsenter -t {init} -u)",
           expected="matrix", observed=seen)
    expect(lab.hostname() == before, "the machine's own host name", expected=before, observed=lab.hostname())


def test_root_is_overlay(lab, ctr):
    prog, init = ctr.parked("r1")
    mounts = lab.mounts(init)
    by_point = {m.point: m for m in mounts}
    root = by_point.get("/")
    expect(root is not None and root.fstype == "overlay",
           f"the mount at / in the container (/proc/{init}/mountinfo)", expected="an overlay",
           observed=f"{root.fstype} from {root.source}" if root else "no mount at /")
    lines = lab.read(f"/proc/{init}/mountinfo").splitlines()
    root_line = next((line for line in lines if line.split()[4] == "/"), "")
    expect(f"lowerdir={ctr.IMAGE}" in root_line, "the overlay's lower layer", expected=f"lowerdir={ctr.IMAGE}",
           observed=root_line)
    kinds = {p: by_point[p].fstype for p in ("/proc", "/dev") if p in by_point}
    expect(kinds == {"/proc": "proc", "/dev": "tmpfs"}, "what is mounted on /proc and /dev in the container",
           expected="proc on /proc, tmpfs on /dev", observed=kinds or "neither")
    others = sorted(m.point for m in mounts if m.point not in ("/", "/proc", "/dev"))
    expect(not others, "other mounts in the container: the old root must be gone", expected="none",
           observed=", ".join(others))
    dev = set(lab.machine.listdir(f"/proc/{init}/root/dev"))
    expect(dev == ctr.DEV, "the container's /dev", expected=", ".join(sorted(ctr.DEV)),
           observed=", ".join(sorted(dev)))
    null = lab.machine.lstat(f"/proc/{init}/root/dev/null")
    expect(null.mode & 0o170000 == 0o020000 and null.mode & 0o666 == 0o666,
           "the container's /dev/null", expected="a character device, mode 666", observed=oct(null.mode))


def test_writes_land_in_upper(lab, ctr):
    before = ctr.image_digest()
    r = ctr.run("w1", "sh", "-c", "echo hello > /hello && rm /etc/hostname && echo x >> /etc/passwd")
    expect_exit(r, 0, "`ctr run` of a command writing, deleting and appending should exit with 0")
    upper = f"{ctr.STATE}/w1/upper"
    expect(lab.exists(f"{upper}/hello") and lab.read(f"{upper}/hello") == "hello\n",
           "the file /hello the container wrote", expected=f"in the upper layer, {upper}/hello",
           observed="there" if lab.exists(f"{upper}/hello") else "not there")
    st = lab.machine.lstat(f"{upper}/etc/hostname") if lab.exists(f"{upper}/etc/hostname") else None
    expect(st is not None and st.mode & 0o170000 == 0o020000, "what deleting /etc/hostname left in the upper layer",
           expected="a whiteout: a character device 0/0", observed=oct(st.mode) if st else "nothing")
    expect(lab.read(f"{upper}/etc/passwd").endswith("x\n"), "/etc/passwd in the upper layer",
           expected="a copy of the image's, with the line appended", observed=lab.read(f"{upper}/etc/passwd")[-40:])
    after = ctr.image_digest()
    changed = [line for line in set(before.splitlines()) ^ set(after.splitlines())]
    expect(not changed, f"the image ({ctr.IMAGE}) after the container ran", expected="unchanged",
           observed="; ".join(sorted(changed)[:6]))


def test_pings_host(lab, ctr):
    net = ("--net", "10.200.0.1,10.200.0.2/24")
    r = ctr.run("v1", "ping", "-c", "1", "-W", "3", "10.200.0.1", opts=net)
    expect_exit(r, 0, "`ctr run --net 10.200.0.1,10.200.0.2/24 -- ping -c 1 10.200.0.1` should exit with 0")
    prog, init = ctr.parked("v2", opts=net)
    host = lab.run(ctr.IP, "-j", "addr", "show", "dev", "vh-v2")
    expect(host.exit == 0 and '"local":"10.200.0.1"' in host.stdout and '"prefixlen":24' in host.stdout
           and '"UP"' in host.stdout, "the host end vh-v2 (ip -j addr show dev vh-v2)",
           expected="up, with 10.200.0.1/24", observed=host.stdout.strip() or host.stderr.strip())
    inside = lab.run(ctr.NSENTER, "-t", init, "-n", ctr.IP, "-j", "addr", "show", "dev", "vc-v2")
    expect(inside.exit == 0 and '"local":"10.200.0.2"' in inside.stdout and '"UP"' in inside.stdout,
           f"the container end vc-v2, in the init's network namespace (nsenter -t {init} -n ip -j addr)",
           expected="up, with 10.200.0.2/24", observed=inside.stdout.strip() or inside.stderr.strip())
    on_host = lab.machine.listdir("/sys/class/net")
    expect("vc-v2" not in on_host, "the links of the machine", expected="vh-v2 but not vc-v2",
           observed=", ".join(on_host))
