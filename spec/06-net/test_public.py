"""Public cases of lab 06-net: `make check` in labs/06-net runs them.

What netlab says is compared with what iproute2 shows (`ip -j -d link`,
`ip -n NS -j addr`), with /proc/1/mountinfo and /proc/PID/ns/net, and with
pings sent from the machine and from inside the namespace.  Each case uses
names and a subnet of its own, and deletes what is left at its end.
"""
from harness.casekit import expect


def _ns_inode(mount) -> int:
    """The namespace inode a /run/netns mount holds: its root is 'net:[INODE]'."""
    return int(mount.root.split("[")[1].rstrip("]")) if "[" in mount.root else -1


def test_ns_named_like_ip(lab, net):
    net.will_clean("lab06a")
    prog = lab.start("netlab", "--hold", "addns", "lab06a")
    prog.wait_for_output("ready\n")
    mounts = [m for m in net.ns_mounts() if m.point == "/run/netns/lab06a"]
    expect(len(mounts) == 1 and mounts[0].fstype == "nsfs", "the mount on /run/netns/lab06a in /proc/1/mountinfo",
           expected="one nsfs mount: the namespace's file bind-mounted there",
           observed=", ".join(f"{m.fstype} {m.root}" for m in mounts) or "no mount")
    host = lab.ns_of(1, "net")
    held = _ns_inode(mounts[0])
    expect(held != host, "the network namespace the mount holds", expected=f"a new one, not the machine's ({host})",
           observed=held)
    expect(lab.ns_of(prog.pid, "net") == host, "the network namespace of netlab itself after net_ns_add",
           expected=f"the one it started in ({host})", observed=lab.ns_of(prog.pid, "net"),
           hint="unshare(CLONE_NEWNET) moves the caller: go back with setns")
    links = net.links(ns="lab06a")
    expect(list(links) == ["lo"] and not net.is_up(links["lo"]), "`ip -n lab06a link`: the devices of the new namespace",
           expected="lo alone, down (a fresh namespace)",
           observed=", ".join(f"{n} {'UP' if net.is_up(l) else 'down'}" for n, l in links.items()))


def test_veth_created(lab, net):
    net.will_clean(None, "lab06b0")
    net.ok("veth", "lab06b0", "lab06b1")
    links = net.links()
    for name, other in (("lab06b0", "lab06b1"), ("lab06b1", "lab06b0")):
        link = links.get(name)
        expect(link is not None, f"a device {name} on the machine", expected="present",
               observed="absent: " + ", ".join(links))
        kind = link.get("linkinfo", {}).get("info_kind")
        expect(kind == "veth", f"the kind of {name} (`ip -d link`)", expected="veth", observed=kind)
        expect(link.get("link") == other, f"the peer of {name}", expected=other, observed=link.get("link"))
        expect(not net.is_up(link), f"the state of {name} just created", expected="down",
               observed=" ".join(link.get("flags", [])))
    # The kernel registers the end in VETH_INFO_PEER first: it gets the lower index.
    expect(links["lab06b1"]["ifindex"] < links["lab06b0"]["ifindex"], "the indexes of lab06b0 and lab06b1",
           expected="lab06b1 (the peer, in VETH_INFO_PEER) registered first: the lower index",
           observed=f"lab06b0 {links['lab06b0']['ifindex']}, lab06b1 {links['lab06b1']['ifindex']}",
           hint="IFLA_IFNAME of the request names the first end; the peer's name goes inside VETH_INFO_PEER")


def test_pair_configured(lab, net):
    net.pair_up("lab06c", "lab06c0", "lab06c1", "10.6.3.1/24", "10.6.3.2/24")
    host_links, host_addrs = net.links(), net.addrs()
    expect("lab06c1" not in host_links, "the machine's devices", expected="no lab06c1: it was moved into lab06c",
           observed=", ".join(host_links))
    expect("lab06c0" in host_links, "the machine's devices", expected="lab06c0, the host end",
           observed=", ".join(host_links))
    expect(host_addrs.get("lab06c0") == [("10.6.3.1", 24)], "the IPv4 addresses of lab06c0 (`ip -j addr`)",
           expected="10.6.3.1/24", observed=_addrs(host_addrs.get("lab06c0")))
    expect(net.is_up(host_links["lab06c0"]), "lab06c0's flags", expected="UP",
           observed=" ".join(host_links["lab06c0"].get("flags", [])))
    host_end = host_links["lab06c0"]
    expect(host_end.get("link_index", 1 << 30) < host_end["ifindex"], "the index of lab06c0 and of its peer",
           expected="the peer lab06c1 registered first (a lower index): host_if is the request's IFLA_IFNAME",
           observed=f"lab06c0 {host_end['ifindex']}, its peer {host_end.get('link_index', 'unknown')}")
    ns_links, ns_addrs = net.links(ns="lab06c"), net.addrs(ns="lab06c")
    expect(sorted(ns_links) == ["lab06c1", "lo"], "the devices of lab06c (`ip -n lab06c link`)",
           expected="lab06c1 and lo", observed=", ".join(ns_links))
    expect(ns_addrs.get("lab06c1") == [("10.6.3.2", 24)], "the IPv4 addresses of lab06c1 inside lab06c",
           expected="10.6.3.2/24", observed=_addrs(ns_addrs.get("lab06c1")))
    for name in ("lab06c1", "lo"):
        expect(net.is_up(ns_links[name]), f"{name}'s flags inside lab06c", expected="UP",
               observed=" ".join(ns_links[name].get("flags", [])))


def test_ping_both_ways(lab, net):
    net.pair_up("lab06d", "lab06d0", "lab06d1", "10.6.4.1/24", "10.6.4.2/24")
    expect(net.ping("10.6.4.2"), "ping 10.6.4.2 (the namespace's end) from the machine",
           expected="an answer", observed="no answer in 3 tries")
    expect(net.ping("10.6.4.1", ns="lab06d"), "ping 10.6.4.1 (the machine's end) from inside lab06d",
           expected="an answer", observed="no answer in 3 tries")
    expect(net.ping("127.0.0.1", ns="lab06d"), "ping 127.0.0.1 inside lab06d (its own loopback)",
           expected="an answer", observed="no answer in 3 tries")


def test_run_inside(lab, net):
    net.will_clean("lab06e")
    net.ok("addns", "lab06e")
    prog = lab.start("netlab", "run", "lab06e", "sleep", "30")
    out = prog.wait_for_output("forked ")
    child = int(out.split("forked ", 1)[1].split()[0])
    held = _ns_inode(next(m for m in net.ns_mounts() if m.point == "/run/netns/lab06e"))
    expect(lab.ns_of(child, "net") == held, f"the network namespace of the command (PID {child})",
           expected=f"lab06e's ({held})", observed=lab.ns_of(child, "net"))
    host = lab.ns_of(1, "net")
    expect(lab.ns_of(prog.pid, "net") == host, "the network namespace of netlab, the caller of net_ns_fork",
           expected=f"unchanged ({host})", observed=lab.ns_of(prog.pid, "net"),
           hint="only the child may call setns")
    lab.run("kill", "-KILL", child)
    prog.finish(5.0)
    result = net.netlab("run", "lab06e", "sh", "-c", "exit 7")
    expect("exited 7" in result.stdout, "`netlab run lab06e sh -c 'exit 7'`",
           expected="exited 7 (the command ran in the child and ended)", observed=result.stdout.strip())
    net.refused(["run", "lab06-none", "true"], "net_ns_fork", "ENOENT",
                "net_ns_fork for a namespace that does not exist (it fails before forking)")


def _addrs(entries) -> str:
    return ", ".join(f"{a}/{p}" for a, p in entries) if entries else "none"
