"""Helpers shared by the public and hidden cases of lab 06-net.

The machine is observed with iproute2 (/usr/bin/ip: in the grading VM the
plain `ip` of /bin is busybox's), /proc/1/mountinfo, and ping (entering a
namespace with nsenter --net=/run/netns/NAME).
"""
import json

import pytest

from harness.casekit import CaseFailed, expect

IP = "/usr/bin/ip"
NS_DIR = "/run/netns"


class Net:
    """Runs the lab's driver, netlab, and reads the machine's network state."""

    def __init__(self, lab):
        self.lab = lab
        self.made_ns: list[str] = []
        self.made_links: list[str] = []

    # ------------------------------------------------------------ driver
    def netlab(self, *argv, timeout: float = 10.0):
        return self.lab.run("netlab", *argv, timeout=timeout)

    def ok(self, *argv) -> None:
        """Runs `netlab ARGV`, which must print ok."""
        result = self.netlab(*argv)
        said = result.stdout.strip().splitlines()
        expect(result.exit == 0 and said[:1] == ["ok"], f"`netlab {' '.join(argv)}`",
               expected="ok (the function returned 0)",
               observed=" / ".join(said) or result.describe())

    def error(self, *argv) -> str:
        """Runs `netlab ARGV`, which must fail; returns its error line."""
        result = self.netlab(*argv)
        line = next((l for l in result.stdout.splitlines() if l.startswith("error:")), "")
        expect(result.exit == 1 and line, f"`netlab {' '.join(argv)}`, which must fail",
               expected="an 'error: FUNCTION returned RC, errno NAME (MESSAGE)' line and exit status 1",
               observed=result.stdout.strip() or result.describe())
        return line

    def refused(self, argv, function: str, errno_name: str, what: str, rc: int = -1, via=None,
                uid: int | None = None) -> None:
        """Runs `netlab ARGV` (or the command line via, for a shell around it), whose FUNCTION must
        return rc (-1) with errno errno_name: the driver prints both."""
        argv = [str(a) for a in argv]
        if via:
            result = self.lab.run(*via)
        else:
            result = self.lab.run("netlab", *argv, uid=uid, gid=uid)
        line = next((l for l in result.stdout.splitlines() if l.startswith("error:")), "")
        said = line.split(" (", 1)[0] if line else (result.stdout.strip() or result.describe())
        want = f"error: {function} returned {rc}, errno {errno_name}"
        shown = " ".join(a if len(a) < 40 else a[:12] + f"...({len(a)} bytes)" for a in argv)
        expect(said == want, f"{what} (`netlab {shown}`)", expected=want, observed=said)

    def pair_up(self, ns: str, host: str, peer: str, host_addr: str, peer_addr: str) -> None:
        self.will_clean(ns, host)
        self.ok("up", ns, host, peer, host_addr, peer_addr)

    # ------------------------------------------------------- observation
    def ip_json(self, *argv, ns: str | None = None) -> list:
        where = ["-n", ns] if ns else []
        result = self.lab.run(IP, *where, "-j", *argv)
        if result.exit != 0:
            raise CaseFailed(f"`ip {' '.join(where + ['-j', *argv])}`", expected="a JSON listing",
                             observed=result.stderr.strip() or result.describe())
        return json.loads(result.stdout or "[]")

    def links(self, ns: str | None = None) -> dict:
        """Every device of a namespace (the machine's by default), by name, with -d details."""
        return {link["ifname"]: link for link in self.ip_json("-d", "link", "show", ns=ns)}

    def addrs(self, ns: str | None = None) -> dict:
        """Name -> [(address, prefix length)] of the IPv4 addresses of each device."""
        return {link["ifname"]: [(a["local"], a["prefixlen"]) for a in link.get("addr_info", [])
                                 if a.get("family") == "inet"]
                for link in self.ip_json("addr", "show", ns=ns)}

    @staticmethod
    def is_up(link: dict) -> bool:
        return "UP" in link.get("flags", [])

    def ns_mounts(self) -> list:
        """The mounts under /run/netns in the machine's mount table."""
        return [m for m in self.lab.mounts(1) if m.point.startswith(NS_DIR + "/")]

    def ns_files(self) -> list:
        try:
            return sorted(self.lab.machine.listdir(NS_DIR))
        except OSError:
            return []

    def ping(self, address: str, ns: str | None = None) -> bool:
        """One echo request, from the machine or from inside ns; a few tries, as a lost first
        packet (neighbour discovery under load) is not a fault."""
        argv = (["nsenter", f"--net={NS_DIR}/{ns}"] if ns else []) + ["ping", "-c", "1", "-W", "2", address]
        for _ in range(3):
            if self.lab.run(*argv, timeout=5.0).exit == 0:
                return True
        return False

    # ----------------------------------------------------------- clean-up
    def will_clean(self, ns: str | None = None, *links: str) -> None:
        """Remembers what the case may leave, for clean_up."""
        if ns:
            self.made_ns.append(ns)
        self.made_links.extend(links)

    def clean_up(self) -> None:
        """Deletes whatever the case made that is still there (not held to the case's budget),
        so that the next case starts on a clean machine without a fresh guest."""
        m = self.lab.machine
        for link in self.made_links:
            m.run([IP, "link", "del", link], timeout=5.0)
        for ns in self.made_ns:
            m.run(["/bin/sh", "-c", f"umount -l {NS_DIR}/{ns}; rm -f {NS_DIR}/{ns}"], timeout=5.0)


@pytest.fixture
def net(lab):
    helper = Net(lab)
    yield helper
    helper.clean_up()
