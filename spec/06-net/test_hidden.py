"""Hidden cases of lab 06-net: the kernel's error replies, a failed set-up
undone, and nothing left behind by the teardown."""
from harness.casekit import expect

IP = "/usr/bin/ip"


def test_error_reply_reported(lab, net):
    net.will_clean(None, "lab06g0")
    net.ok("veth", "lab06g0", "lab06g1")
    before = net.links()["lab06g0"]["ifindex"]
    line = net.error("veth", "lab06g0", "lab06g1")
    expect(line == "error: net_veth_add: File exists", "creating the same veth pair a second time",
           expected="error: net_veth_add: File exists (the kernel's EEXIST reply)", observed=line)
    after = net.links().get("lab06g0", {}).get("ifindex")
    expect(after == before, "lab06g0 after the refused second request", expected=f"still there, ifindex {before}",
           observed=after or "gone")
    line = net.error("linkdel", "lab06g7")
    expect(line == "error: net_link_del: No such device", "deleting a device that does not exist",
           expected="error: net_link_del: No such device (ENODEV)", observed=line)
    line = net.error("linkup", "lab06g7")
    expect(line == "error: net_link_up: No such device", "bringing up a device that does not exist",
           expected="error: net_link_up: No such device (ENODEV)", observed=line)
    net.ok("addr", "lab06g0", "10.6.7.1/24")
    line = net.error("addr", "lab06g0", "10.6.7.1/24")
    expect(line == "error: net_addr_add: File exists", "adding the same address twice",
           expected="error: net_addr_add: File exists", observed=line)


def test_failed_setup_undone(lab, net):
    # Someone else's veth pair already uses the host end's name.
    net.will_clean("lab06h", "lab06h0")
    lab.sh(f"{IP} link add lab06h0 type veth peer name lab06h9")
    line = net.error("up", "lab06h", "lab06h0", "lab06h1", "10.6.8.1/24", "10.6.8.2/24")
    expect(line == "error: net_pair_up: File exists", "net_pair_up when a device named lab06h0 exists",
           expected="error: net_pair_up: File exists", observed=line)
    expect("lab06h" not in net.ns_files(), "/run/netns after the failed set-up",
           expected="no lab06h: the namespace it made is deleted", observed=", ".join(net.ns_files()))
    left = [m.point for m in net.ns_mounts()]
    expect(not left, "mounts under /run/netns after the failed set-up", expected="none", observed=", ".join(left))
    links = net.links()
    expect("lab06h0" in links and "lab06h9" in links, "the veth pair that existed before",
           expected="lab06h0 and lab06h9 untouched: net_pair_up did not make them",
           observed="present: " + ", ".join(sorted(links)))
    expect("lab06h1" not in links, "the machine's devices", expected="no lab06h1", observed=", ".join(sorted(links)))
    expect(not net.addrs().get("lab06h0"), "the addresses of lab06h0, which is not ours",
           expected="none", observed=net.addrs().get("lab06h0"))


def test_teardown_leaves_no_link(lab, net):
    net.pair_up("lab06f", "lab06f0", "lab06f1", "10.6.6.1/24", "10.6.6.2/24")
    net.ok("down", "lab06f", "lab06f0")

    def veths():
        return sorted(n for n, l in net.links().items() if l.get("linkinfo", {}).get("info_kind") == "veth")
    # Deleting one end deletes the pair at once; a namespace that is let go
    # takes its devices with it a moment later: either is fine.
    lab.eventually(lambda: not veths(), timeout=3.0, what="no veth device left on the machine after `netlab down`")
    left = [n for n in lab.machine.listdir("/sys/class/net") if n.startswith("lab06f")]
    expect(not left, "/sys/class/net after `netlab down`", expected="no lab06f0 or lab06f1", observed=", ".join(left))


def test_teardown_leaves_no_namespace(lab, net):
    net.pair_up("lab06i", "lab06i0", "lab06i1", "10.6.9.1/24", "10.6.9.2/24")
    net.ok("down", "lab06i", "lab06i0")
    expect("lab06i" not in net.ns_files(), "/run/netns after `netlab down`",
           expected="no lab06i file", observed=", ".join(net.ns_files()))
    left = [m.point for m in net.ns_mounts()]
    expect(not left, "mounts under /run/netns after `netlab down`", expected="none", observed=", ".join(left))
    listed = lab.run(IP, "netns", "list").stdout.split()
    expect("lab06i" not in listed, "`ip netns list`", expected="no lab06i", observed=" ".join(listed) or "empty")
