"""Public cases of lab 02-uts: `make check` in labs/02-uts runs them.

What utsns reports is compared with what the kernel shows from outside: the
/proc/PID/ns/uts inodes, the names inside a namespace read through nsenter,
and the machine's own name in /proc/sys/kernel/hostname.
"""
from harness.casekit import expect


def test_new_namespace_named(lab, utsns):
    prog, child = utsns.start_held("box-1", "lab.example")
    host_ns, child_ns = lab.ns_of(1, "uts"), lab.ns_of(child, "uts")
    expect(child_ns != host_ns, f"the UTS namespace of the payload (PID {child}) against the machine's",
           expected="a new namespace: two different inodes", observed=f"both {child_ns}")
    expect(lab.ns_of(prog.pid, "uts") == host_ns, "the driver's own UTS namespace after uts_spawn",
           expected=f"unchanged ({host_ns})", observed=lab.ns_of(prog.pid, "uts"))
    seen = utsns.inside(child, "hostname")
    expect(seen == "box-1", f"the host name of the payload's namespace, read from outside "
           f"(nsenter -t {child} -u cat /proc/sys/kernel/hostname)", expected="box-1", observed=seen)


def test_host_name_unchanged(lab, utsns):
    before = utsns.machine_names()
    result, report = utsns.run("run", "web-7", "lab.example")
    expect(report.get("exited") == 0 and "error" not in report, "`utsns run web-7 lab.example` should start "
           "its payload and see it end", expected="spawned PID, exited 0",
           observed=result.stdout.strip().replace("\n", " | ") or result.describe())
    expect(report.get("payload", "").startswith("hostname web-7 "), "what the payload saw inside",
           expected="hostname web-7 ...", observed=report.get("payload"))
    after = utsns.machine_names()
    expect(after[0] == before[0], "the machine's own host name (/proc/sys/kernel/hostname, read by the "
           "grader outside) after utsns ran", expected=f"unchanged: {before[0]}", observed=after[0],
           hint="the name was set in the machine's namespace: before the child's namespace existed, "
                "or without one")
    expect(after[1] == before[1], "the machine's own domain name (/proc/sys/kernel/domainname) after utsns ran",
           expected=f"unchanged: {before[1]}", observed=after[1])


def test_domain_name_set(lab, utsns):
    prog, child = utsns.start_held("box-2", "corp.test")
    seen = utsns.inside(child, "domainname")
    expect(seen == "corp.test", f"the domain name of the payload's namespace, read from outside "
           f"(nsenter -t {child} -u cat /proc/sys/kernel/domainname)", expected="corp.test", observed=seen)


def test_join_sees_name(lab, utsns):
    holder, child = utsns.start_held("db-3", "lab.example")
    joiner = lab.start("utsns", "--hold", "join", child)
    out = utsns.settle(joiner)
    target, joined = lab.ns_of(child, "uts"), lab.ns_of(joiner.pid, "uts")
    expect(joined == target, f"the UTS namespace of `utsns join {child}` (PID {joiner.pid}) after uts_join",
           expected=f"the payload's: {target}", observed=f"{joined}" + (" (the machine's)" if joined ==
                                                                         lab.ns_of(1, "uts") else ""))
    said = utsns.parse(out).get("joined", "")
    expect(said.startswith("hostname db-3 "), "what uname() says in the process that joined",
           expected="hostname db-3 ...", observed=said or out.strip().replace("\n", " | "))


INVALID = [
    ("", "lab.example", "hostname", "an empty host name"),
    ("h" * 65, "lab.example", "hostname", "a 65-byte host name"),
    ("box-4", "d" * 65, "domain", "a 65-byte domain name"),
]


def test_invalid_refused(lab, utsns):
    before = utsns.machine_names()
    with utsns.no_new_namespaces():
        for hostname, domainname, field, what in INVALID:
            result, report = utsns.run("run", hostname, domainname)
            error = report.get("error", "")
            early = "ENOSPC" not in error
            expect(error.startswith("uts_spawn returned -1, errno EINVAL") and "spawned" not in report,
                   f"uts_spawn with {what}, while no new UTS namespace may be created "
                   f"(max_uts_namespaces = 0)", expected="refused at once: -1 with errno EINVAL",
                   observed=(error or result.stdout.strip().replace("\n", " | ") or result.describe()),
                   hint="" if early else "ENOSPC means it tried to create the namespace first: "
                        "the configuration must be checked before clone()")
            reason = report.get("invalid", "")
            expect(field in reason, f"the reason uts_config_error gives for {what}",
                   expected=f"a sentence naming the {field}", observed=reason or "none")
    expect(utsns.machine_names() == before, "the machine's own names after the refused configurations",
           expected=f"unchanged: {before}", observed=utsns.machine_names())
