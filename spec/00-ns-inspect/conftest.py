"""Helpers shared by the public and hidden cases of lab 00-ns-inspect."""
import pytest

from harness.casekit import CaseFailed, expect_exit


class NsInfo:
    """Runs the lab's driver, nsinfo, and reads what it printed."""

    def __init__(self, lab):
        self.lab = lab

    def listing(self, *argv) -> tuple[int, dict[str, int]]:
        """`nsinfo list ...` as (count, {type: inode})."""
        result = self.lab.run("nsinfo", "list", *argv)
        expect_exit(result, 0, f"`nsinfo list {' '.join(map(str, argv))}` should succeed")
        return self.parse(result.stdout)

    def held(self, *argv):
        """Starts `nsinfo --hold ...`; returns (program, what it printed before 'ready')."""
        prog = self.lab.start("nsinfo", "--hold", *argv)
        out = prog.wait_for_output("ready\n")
        return prog, out.split("ready\n")[0]

    def in_new_namespaces(self, *flags):
        """A `sleep` that util-linux's unshare has put into new namespaces."""
        prog = self.lab.start("unshare", *flags, "sleep", "60")
        self.lab.eventually(lambda: self.lab.status(prog.pid)["Name"] == "sleep",
                            what="unshare to create the namespaces and start sleep")
        return prog

    @staticmethod
    def parse(text: str) -> tuple[int, dict[str, int]]:
        lines = text.splitlines()
        if not lines or not lines[0].startswith("count "):
            raise CaseFailed("nsinfo list should print 'count N' first",
                             observed=text.strip()[:200] or "nothing")
        entries = {}
        for line in lines[1:]:
            kind, inode = line.split()
            entries[kind] = int(inode)
        return int(lines[0].split()[1]), entries

    @staticmethod
    def show(entries: dict[str, int]) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(entries.items())) or "(none)"


@pytest.fixture
def nsinfo(lab):
    return NsInfo(lab)
