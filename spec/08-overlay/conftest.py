"""Helpers shared by the public and hidden cases of lab 08-overlay.

Each case works in a folder of its own on the machine's /tmp (a tmpfs, so
that upper and work directories share a filesystem), builds its layers
there, and looks at the result from outside: mountinfo and its overlay
options, the files of each layer on disk, their types (a whiteout is a
character device 0/0) and the trusted.overlay.opaque attribute.  Whatever a
case mounted or made is unmounted and removed afterwards.
"""
import re
import shlex
import stat

import pytest

from harness.casekit import CaseFailed, expect

# Read an extended attribute in the machine: Python's os.getxattr, since
# getfattr is not always installed.
GETXATTR = """import os, sys
try:
    print(repr(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False)))
except OSError as e:
    print("error", e.errno)
"""
OPAQUE = "trusted.overlay.opaque"
# "error: FUNCTION returned RC, errno NAME (text)", then ": WHY" for the functions that explain themselves.
FAILURE = re.compile(r"(\S+) returned (-?\d+), errno (\S+) \((.*?)\)(?:: (.*))?$")


class Ovlctl:
    """Runs the lab's driver, ovlctl, and looks at layers and mounts."""

    def __init__(self, lab):
        self.lab = lab
        self.roots: list[str] = []

    # ------------------------------------------------------------ set-up
    def scratch(self, base: str = "/tmp") -> str:
        """A fresh, empty folder for this case (removed afterwards)."""
        root = f"{base}/ovl-{self.lab.case.id}"
        self.roots.append(root)
        self.lab.sh(f"rm -rf {root} && mkdir -p {root}")
        return root

    def tree(self, top: str, files: dict[str, str]) -> str:
        """Creates top and the files under it ({'etc/motd': 'text'}); a name ending in / is a folder."""
        script = [f"mkdir -p {shlex.quote(top)}"]
        for name, text in files.items():
            path = shlex.quote(f"{top}/{name}")
            if name.endswith("/"):
                script.append(f"mkdir -p {path}")
            else:
                script.append(f"mkdir -p $(dirname {path}) && printf %s {shlex.quote(text)} > {path}")
        self.lab.sh(" && ".join(script))
        return top

    def mkdirs(self, *paths: str) -> None:
        self.lab.sh("mkdir -p " + " ".join(shlex.quote(p) for p in paths))

    # ------------------------------------------------------------ driver
    def run(self, *argv, **options):
        """ovlctl with argv (options: uid, gid, cwd for lab.run): the Result and the parsed report."""
        result = self.lab.run("ovlctl", *argv, **options)
        return result, self.parse(result.stdout)

    @staticmethod
    def parse(text: str) -> dict:
        report: dict = {"lines": text.strip().splitlines(), "errors": []}
        for line in report["lines"]:
            key, _, value = line.partition(" ")
            if key == "error:":
                report["errors"].append(value)
                found = FAILURE.match(value)
                if found and "failure" not in report:
                    function, rc, errno_name, text, why = found.groups()
                    report["failure"] = {"function": function, "rc": int(rc), "errno": errno_name,
                                         "text": text, "why": why or ""}
            elif key in ("heap", "fds") and value.startswith("leaked "):
                report[f"{key} leaked"] = int(value.split()[1])
            elif key == "overflow":
                report["overflow"] = int(value)
            elif key == "imported":
                report["imported"] = int(value)
            elif key in ("options", "mounted", "unmounted"):
                report[key] = value
            elif key == "ok":
                report["ok"] = True
        return report

    @staticmethod
    def failure(report: dict) -> dict:
        """The first failure the driver reported: function, rc, errno (its name), text, why."""
        return report.get("failure") or {"function": None, "rc": None, "errno": None, "text": None, "why": ""}

    def refused(self, result, report: dict, function: str, errno_name: str, what: str,
                why_names: tuple = (), why_starts: str = "") -> dict:
        """Expects FUNCTION to have returned exactly -1 with errno errno_name; why must name why_names."""
        failed = self.failure(report)
        seen = (result.exit, failed["function"], failed["rc"], failed["errno"])
        wanted = (1, function, -1, errno_name)
        expect(seen == wanted, what, expected=f"error: {function} returned -1, errno {errno_name}",
               observed=f"{result.describe()}: {self.said(report)}")
        why = failed["why"]
        if why_names or why_starts:
            expect(why.startswith(why_starts) and all(n in why for n in why_names), f"the explanation of {what}",
                   expected=f"a sentence{' starting ' + repr(why_starts) if why_starts else ''} naming "
                            f"{', '.join(why_names)}", observed=repr(why))
        return failed

    @staticmethod
    def said(report: dict) -> str:
        return " | ".join(report["lines"]) or "nothing"

    def mount(self, merged: str, lowers: list[str], upper: str | None = None, work: str | None = None) -> dict:
        """`ovlctl mount` that must succeed (the cases about refusals call run())."""
        argv = ["mount", merged] + (["--upper", upper, "--work", work] if upper else []) + lowers
        result, report = self.run(*argv)
        expect(result.exit == 0 and "mounted" in report, f"`ovlctl {' '.join(argv)}`",
               expected=f"mounted {merged}", observed=f"{result.describe()}: {self.said(report)}")
        return report

    # ------------------------------------------------------------ kernel
    def overlay_at(self, point: str) -> dict | None:
        """The overlay mounted at point, from /proc/1/mountinfo: its options as a dict."""
        found = None
        for line in self.lab.read("/proc/1/mountinfo").splitlines():
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if fields[4] == point and tail and tail[0] == "overlay":
                opts = tail[2] if len(tail) > 2 else ""
                found = dict(o.partition("=")[::2] for o in opts.split(","))
                found["mount options"] = fields[5]
        return found

    def mounted(self, point: str) -> bool:
        return any(line.split()[4] == point for line in self.lab.read("/proc/1/mountinfo").splitlines())

    def kind(self, path: str) -> str:
        """'missing', 'whiteout (character device 0/0)', 'regular file', 'directory', ..."""
        try:
            st = self.lab.machine.lstat(path)
        except OSError:
            return "missing"
        if stat.S_ISCHR(st.mode):
            if (st.rdev_major, st.rdev_minor) == (0, 0):
                return "whiteout (character device 0/0)"
            return f"character device {st.rdev_major}/{st.rdev_minor}"
        for test, name in ((stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"),
                           (stat.S_ISLNK, "symbolic link"), (stat.S_ISBLK, "block device")):
            if test(st.mode):
                return name
        return "special file"

    def text(self, path: str) -> str | None:
        try:
            return self.lab.read(path)
        except OSError:
            return None

    def listing(self, path: str) -> list[str]:
        try:
            return sorted(self.lab.machine.listdir(path))
        except OSError:
            return []

    def xattr(self, path: str, name: str = OPAQUE) -> str:
        """repr of the attribute's bytes (b'y'), or 'error N' (61: there is none)."""
        result = self.lab.run("python3", "-c", GETXATTR, path, name)
        if result.exit != 0:
            raise CaseFailed(f"reading {name} of {path} in the machine", observed=result.describe())
        return result.stdout.strip()

    # ----------------------------------------------------------- cleanup
    def cleanup(self) -> None:
        """Unmounts what is under the case's folders (deepest first) and removes them."""
        machine = self.lab.machine
        for root in self.roots:
            r = shlex.quote(root)
            script = (f"for m in $(awk -v r={r} '$5 == r || index($5, r \"/\") == 1 {{print $5}}' "
                      f"/proc/1/mountinfo | sort -r); do umount -l \"$m\"; done; rm -rf {r}")
            machine.run(["/bin/sh", "-c", script], timeout=15.0)


@pytest.fixture
def ov(lab):
    helper = Ovlctl(lab)
    yield helper
    helper.cleanup()
