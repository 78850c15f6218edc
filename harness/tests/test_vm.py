"""The grading VM and its agent: what graded code can and cannot do to it."""
import errno
import signal
import time

import pytest

from harness.backends import Job


def test_runs_a_program_and_reports_its_end(guest):
    r = guest.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (r.exit, r.stdout, r.stderr) == (3, "out\n", "err\n")
    r = guest.run(["sh", "-c", "kill -SEGV $$"], timeout=10)
    assert r.signal == signal.SIGSEGV and "SIGSEGV" in r.describe()


def test_a_hung_program_is_killed_at_its_deadline(guest):
    r = guest.run(["sh", "-c", "sleep 100 & sleep 100"], timeout=0.5)
    assert r.timed_out and r.signal == signal.SIGKILL and "timed out" in r.describe()


def test_a_flood_of_output_is_cut(guest):
    r = guest.run(["sh", "-c", "yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"], timeout=60)
    assert r.flooded and r.out_total > 64 << 20 and len(r.out) == 1 << 20


def test_kill_minus_one_spares_the_agent(guest):
    guest.run(["sh", "-c", "kill -KILL -1"], timeout=10)
    assert guest.run(["true"], timeout=10).exit == 0


def sleeping(guest):
    return any(p.comm == "sleep" for p in guest.ps())


def test_cleanup_ends_daemons(guest):
    guest.run(["sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &"], timeout=10)
    deadline = time.monotonic() + 5
    while not sleeping(guest) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleeping(guest)
    guest.cleanup()
    assert not sleeping(guest)


def test_a_background_program_can_be_watched(guest):
    job: Job = guest.spawn(["sh", "-c", "echo ready; sleep 100"])
    while "ready" not in job.peek()[1]:
        pass
    assert job.peek()[0] is True
    job.signal(signal.SIGTERM)
    assert job.wait(10).signal == signal.SIGTERM


def test_file_errors_carry_errno(guest):
    with pytest.raises(OSError) as exc:
        guest.read("/no/such/file")
    assert exc.value.errno == errno.ENOENT


def test_programs_run_in_the_job_cgroup_and_as_asked(guest):
    assert guest.run(["cat", "/proc/self/cgroup"], timeout=10).stdout == "0::/grade/job\n"
    assert guest.run(["id", "-u"], timeout=10, uid=1000, gid=1000).stdout == "1000\n"


def test_a_job_moved_to_another_cgroup_stays_there(guest):
    # The spawn is answered only once the job is in grade/job: a case that
    # moves it at once (lab 07 puts a process in a parent group) is never
    # undone by the job joining late.
    guest.run(["mkdir", "-p", "/sys/fs/cgroup/grade/lab/moved"], timeout=10)
    try:
        for _ in range(20):
            job = guest.spawn(["sleep", "100"])
            guest.write("/sys/fs/cgroup/grade/lab/moved/cgroup.procs", str(job.pid).encode())
            time.sleep(0.02)
            assert guest.read(f"/proc/{job.pid}/cgroup") == b"0::/grade/lab/moved\n"
            job.signal(signal.SIGKILL)
            job.wait(10)
    finally:
        guest.cleanup()
        guest.run(["rmdir", "/sys/fs/cgroup/grade/lab/moved"], timeout=10)


def test_the_guest_sees_nothing_of_the_host_but_usr(guest):
    names = set(guest.listdir("/"))
    assert "work" not in names and "home" not in names
    assert guest.listdir("/sub") == [] and guest.listdir("/root") == []
    assert not guest.run(["sh", "-c", "test -e /etc/shadow"], timeout=10).exit == 0
    r = guest.run(["sh", "-c", "echo x > /usr/evil"], timeout=10)
    assert r.exit != 0 and "Read-only" in r.stderr


def test_a_memory_hog_is_contained(guest):
    hog = "a = []\nwhile True: a.append(bytearray(50 << 20))\n"
    r = guest.run(["/usr/bin/python3", "-c", hog], timeout=60)
    assert r.signal == signal.SIGKILL
    assert guest.run(["true"], timeout=10).exit == 0


KILLED_HARNESS = """
import os, sys, tempfile
from pathlib import Path
from harness.backends import VMBackend
work = Path(tempfile.mkdtemp(prefix="labs-test-orphan-"))
(work / "sub").mkdir(); (work / "out").mkdir()
b = VMBackend(work / "sub", work / "out")
b.start()
print(b.guest.proc.pid, flush=True)
os.kill(os.getpid(), 9)
"""


def test_a_harness_killed_outright_leaves_no_guest_running():
    """SIGKILL gives the harness no chance to clean up: the kernel must end
    its QEMU (else a guest burns a core for ever)."""
    import subprocess
    import sys
    from harness.spec import ROOT
    proc = subprocess.run([sys.executable, "-c", KILLED_HARNESS], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    qemu = int(proc.stdout.split()[0])

    def running() -> bool:   # a zombie waiting for init to reap it is not running
        try:
            return "\nState:\tZ" not in open(f"/proc/{qemu}/status").read()
        except FileNotFoundError:
            return False
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(), f"QEMU {qemu} still runs after its harness was killed"
