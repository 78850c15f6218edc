"""Public cases of lab 00-ns-inspect: `make check` in labs/00-ns-inspect runs them.

Each case compares what nsinfo (your code) prints with what the kernel
says, read from outside the process: the links of /proc/PID/ns.
"""
from harness.casekit import expect, expect_exit


def test_lists_own_namespaces(lab, nsinfo):
    prog, out = nsinfo.held("list", "self")
    count, listed = nsinfo.parse(out)
    truth = lab.ns(prog.pid)
    expect(listed == truth, "`nsinfo list self`: every link of /proc/self/ns with its inode",
           expected=nsinfo.show(truth), observed=nsinfo.show(listed))
    expect(count == len(truth), "ns_list's return value: the number of namespaces",
           expected=len(truth), observed=count)


def test_lists_other_process(lab, nsinfo):
    other = nsinfo.in_new_namespaces("--uts", "--ipc", "--net")
    count, listed = nsinfo.listing(other.pid)
    truth = lab.ns(other.pid)
    expect(listed == truth, f"`nsinfo list {other.pid}` for a process in new uts, ipc and net namespaces",
           expected=nsinfo.show(truth), observed=nsinfo.show(listed))


def test_same_and_different(lab, nsinfo):
    a = nsinfo.in_new_namespaces("--uts", "--ipc")
    b = lab.start("sleep", "60")
    ns_a, ns_b = lab.ns(a.pid), lab.ns(b.pid)
    for kind in sorted(ns_a):
        result = lab.run("nsinfo", "same", a.pid, b.pid, kind)
        expect_exit(result, 0)
        truth = "same" if ns_a[kind] == ns_b.get(kind) else "different"
        expect(result.stdout.strip() == truth,
               f"`nsinfo same {a.pid} {b.pid} {kind}` (inodes {ns_a[kind]} and {ns_b.get(kind)})",
               expected=truth, observed=result.stdout.strip() or "nothing")


def test_inode_of_one_type(lab, nsinfo):
    other = nsinfo.in_new_namespaces("--net")
    result = lab.run("nsinfo", "inode", other.pid, "net")
    expect_exit(result, 0)
    truth = lab.ns(other.pid)["net"]
    expect(result.stdout.strip() == str(truth), f"`nsinfo inode {other.pid} net`",
           expected=truth, observed=result.stdout.strip() or "nothing")
    for kind, errno in (("bogus", "ENOENT"), ("", "EINVAL"), ("../../self/ns/net", "EINVAL")):
        result = lab.run("nsinfo", "inode", other.pid, kind)
        expect(f"returned -1, errno {errno}" in result.stdout,
               f"ns_inode({other.pid}, \"{kind}\"): not a link of /proc/PID/ns",
               expected=f"-1 with errno {errno}", observed=result.stdout.strip() or result.describe())
