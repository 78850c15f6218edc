"""Public cases of lab 08-overlay: `make check` in labs/08-overlay runs them.

What ovlctl reports is compared with what the kernel shows from outside:
the overlay's line in mountinfo and its options, the files of each layer on
disk, their types (a whiteout is a character device 0/0) and the
trusted.overlay.opaque attribute of directories.
"""
from harness.casekit import expect

LOWER = {"etc/hostname": "image\n", "etc/motd": "from the lower layer\n", "etc/os-release": "ID=lab\n"}


def _simple(ov):
    """A lower layer, empty upper, work and merged folders: the paths."""
    root = ov.scratch()
    lower = ov.tree(f"{root}/lower", LOWER)
    upper, work, merged = f"{root}/upper", f"{root}/work", f"{root}/merged"
    ov.mkdirs(upper, work, merged)
    return lower, upper, work, merged


def test_mount_and_read(lab, ov):
    lower, upper, work, merged = _simple(ov)
    ov.mount(merged, [lower], upper, work)
    found = ov.overlay_at(merged)
    expect(found is not None, f"an overlay mounted on {merged} in /proc/1/mountinfo",
           expected="a line of type overlay", observed="none")
    wanted = {"lowerdir": lower, "upperdir": upper, "workdir": work}
    seen = {k: found.get(k) for k in wanted}
    expect(seen == wanted, f"the overlay's options in mountinfo", expected=wanted, observed=seen)
    motd = ov.text(f"{merged}/etc/motd")
    expect(motd == LOWER["etc/motd"], f"{merged}/etc/motd, read through the merged view",
           expected=repr(LOWER["etc/motd"]) + " (the lower layer's file)", observed=repr(motd))


def test_copy_up_on_write(lab, ov):
    lower, upper, work, merged = _simple(ov)
    ov.mount(merged, [lower], upper, work)
    result = lab.run("sh", "-c", f"echo changed >> {merged}/etc/motd")
    expect(result.exit == 0, f"appending to {merged}/etc/motd through the merged view",
           expected="it works: the overlay is writable", observed=result.describe())
    changed = LOWER["etc/motd"] + "changed\n"
    seen = {"merged": ov.text(f"{merged}/etc/motd"), "upper": ov.text(f"{upper}/etc/motd"),
            "lower": ov.text(f"{lower}/etc/motd")}
    wanted = {"merged": changed, "upper": changed, "lower": LOWER["etc/motd"]}
    expect(seen == wanted, "etc/motd after the write, in the merged view and on disk in each layer",
           expected=f"{wanted} (copied up; the lower file unchanged)", observed=seen)


def test_whiteout_on_delete(lab, ov):
    lower, upper, work, merged = _simple(ov)
    ov.mount(merged, [lower], upper, work)
    result = lab.run("rm", f"{merged}/etc/hostname")
    expect(result.exit == 0, f"removing {merged}/etc/hostname", expected="it works", observed=result.describe())
    seen = {"merged": ov.kind(f"{merged}/etc/hostname"), "upper": ov.kind(f"{upper}/etc/hostname"),
            "lower": ov.kind(f"{lower}/etc/hostname")}
    wanted = {"merged": "missing", "upper": "whiteout (character device 0/0)", "lower": "regular file"}
    expect(seen == wanted, "etc/hostname after its removal through the merged view", expected=wanted,
           observed=seen)


def test_opaque_directory(lab, ov):
    lower, upper, work, merged = _simple(ov)
    ov.mount(merged, [lower], upper, work)
    result = lab.run("sh", "-c", f"rm -r {merged}/etc && mkdir {merged}/etc && echo new > {merged}/etc/only")
    expect(result.exit == 0, f"replacing {merged}/etc by a new directory", expected="it works",
           observed=result.describe())
    opaque = ov.xattr(f"{upper}/etc")
    expect(opaque == "b'y'", f"trusted.overlay.opaque of {upper}/etc", expected="b'y' (an opaque directory)",
           observed=opaque)
    seen = {"merged": ov.listing(f"{merged}/etc"), "lower": ov.listing(f"{lower}/etc")}
    wanted = {"merged": ["only"], "lower": sorted(n.split("/")[1] for n in LOWER)}
    expect(seen == wanted, "the contents of etc: the lower files no longer show through", expected=wanted,
           observed=seen)


def test_layers_stacked(lab, ov):
    root = ov.scratch()
    base = ov.tree(f"{root}/layers/base", {"etc/os-release": "ID=base\n", "etc/motd": "base\n",
                                           "bin/tool": "tool v1\n"})
    app = ov.tree(f"{root}/layers/app", {"etc/motd": "app\n", "app/run": "run\n"})
    patch = ov.tree(f"{root}/layers/patch", {"etc/motd": "patch\n"})
    upper, work, merged = f"{root}/upper", f"{root}/work", f"{root}/merged"
    ov.mkdirs(upper, work, merged)
    ov.mount(merged, [base, app, patch], upper, work)
    found = ov.overlay_at(merged) or {}
    expect(found.get("lowerdir") == f"{patch}:{app}:{base}", "lowerdir in mountinfo for layers base, app, "
           "patch (image order, the base first)", expected=f"{patch}:{app}:{base} (the topmost first)",
           observed=found.get("lowerdir"))
    seen = {f: ov.text(f"{merged}/{f}") for f in ("etc/motd", "etc/os-release", "bin/tool", "app/run")}
    wanted = {"etc/motd": "patch\n", "etc/os-release": "ID=base\n", "bin/tool": "tool v1\n", "app/run": "run\n"}
    expect(seen == wanted, "files in the merged view: each from the topmost layer that has it",
           expected=wanted, observed=seen)

    # The same image, read-only: no upperdir, no workdir.
    view = f"{root}/view"
    ov.mkdirs(view)
    ov.mount(view, [base, app, patch])
    found = ov.overlay_at(view) or {}
    expect(found.get("lowerdir") == f"{patch}:{app}:{base}" and "upperdir" not in found,
           "the options of a read-only overlay of the same layers",
           expected=f"lowerdir={patch}:{app}:{base} and no upperdir", observed=found or "no overlay")
    result = lab.run("touch", f"{view}/new")
    expect(result.exit != 0 and ov.kind(f"{view}/new") == "missing", f"creating {view}/new in a read-only overlay",
           expected="refused (EROFS)", observed=result.describe())


def test_missing_workdir_error(lab, ov):
    lower, upper, work, merged = _simple(ov)
    missing = f"{work}-that-is-not-there"
    result, report = ov.run("mount", merged, "--upper", upper, "--work", missing, lower)
    ov.refused(result, report, "ovl_mount", "ENOENT", "ovl_mount with a workdir that does not exist",
               why_names=("workdir", missing))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none", observed="mounted")

    gone = f"{lower}-gone"
    result, report = ov.run("mount", merged, "--upper", upper, "--work", work, gone)
    ov.refused(result, report, "ovl_mount", "ENOENT", "ovl_mount with a lowerdir that does not exist",
               why_names=("lowerdir", gone))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none", observed="mounted")


def test_umounted(lab, ov):
    lower, upper, work, merged = _simple(ov)
    ov.mount(merged, [lower], upper, work)
    result, report = ov.run("umount", merged)
    expect(result.exit == 0 and not ov.mounted(merged), f"`ovlctl umount {merged}`, then /proc/1/mountinfo",
           expected="unmounted, no mount left there",
           observed=f"{result.describe()}: {ov.said(report)}; mounted: {ov.mounted(merged)}")
    result, report = ov.run("umount", merged)
    ov.refused(result, report, "ovl_umount", "EINVAL",
               f"`ovlctl umount {merged}` again, where nothing is mounted any more")
