"""Hidden cases of lab 08-overlay: importing OCI layers, refusals."""
from harness.casekit import expect

WHITEOUT = "whiteout (character device 0/0)"


def _import(ov, layer: str, count: int) -> None:
    result, report = ov.run("import", layer)
    expect(result.exit == 0 and report.get("imported") == count, f"`ovlctl import {layer}`",
           expected=f"imported {count}", observed=f"{result.describe()}: {ov.said(report)}")


def test_import_whiteouts(lab, ov):
    root = ov.scratch()
    base = ov.tree(f"{root}/base", {"bin/tool": "v1\n", "bin/keep": "k\n", "app/run": "run\n"})
    patch = ov.tree(f"{root}/patch", {"bin/.wh.tool": "", ".wh.app": "", "bin/new": "new\n"})
    _import(ov, patch, 2)
    seen = {p: ov.kind(f"{patch}/{p}") for p in ("bin/tool", "app", "bin/.wh.tool", ".wh.app", "bin/new")}
    wanted = {"bin/tool": WHITEOUT, "app": WHITEOUT, "bin/.wh.tool": "missing", ".wh.app": "missing",
              "bin/new": "regular file"}
    expect(seen == wanted, f"the layer {patch} on disk after the import (the markers were bin/.wh.tool "
           "and .wh.app)", expected=wanted, observed=seen)
    merged = f"{root}/merged"
    ov.mkdirs(merged)
    ov.mount(merged, [base, patch])
    seen = {"/": ov.listing(merged), "bin": ov.listing(f"{merged}/bin")}
    wanted = {"/": ["bin"], "bin": ["keep", "new"]}
    expect(seen == wanted, "the merged view of base and the imported layer", expected=wanted, observed=seen)


def test_import_opaque(lab, ov):
    root = ov.scratch()
    base = ov.tree(f"{root}/base", {"etc/motd": "base\n", "etc/os-release": "ID=base\n", "etc/ssl/cert": "c\n"})
    patch = ov.tree(f"{root}/patch", {"etc/.wh..wh..opq": "", "etc/motd": "patch\n"})
    _import(ov, patch, 1)
    opaque = ov.xattr(f"{patch}/etc")
    expect(opaque == "b'y'", f"trusted.overlay.opaque of {patch}/etc after the import",
           expected="b'y' (exactly one byte)", observed=opaque)
    seen = ov.listing(f"{patch}/etc")
    expect(seen == ["motd"], f"the files of {patch}/etc after the import",
           expected="only motd: the marker .wh..wh..opq removed, nothing made for it", observed=seen)
    merged = f"{root}/merged"
    ov.mkdirs(merged)
    ov.mount(merged, [base, patch])
    seen = ov.listing(f"{merged}/etc")
    expect(seen == ["motd"], "etc in the merged view of base and the imported layer",
           expected="only the layer's motd: base's etc hidden", observed=seen)


def test_import_stays_inside(lab, ov):
    root = ov.scratch()
    outside = ov.tree(f"{root}/outside", {".wh.precious": "not a marker of the layer\n"})
    layer = ov.tree(f"{root}/layer", {"etc/motd": "m\n", ".wh.gone": ""})
    lab.sh(f"ln -s {outside} {layer}/escape")
    _import(ov, layer, 1)
    seen = {f"{outside}/.wh.precious": ov.kind(f"{outside}/.wh.precious"),
            f"{outside}/precious": ov.kind(f"{outside}/precious"),
            f"{layer}/escape": ov.kind(f"{layer}/escape")}
    wanted = {f"{outside}/.wh.precious": "regular file", f"{outside}/precious": "missing",
              f"{layer}/escape": "symbolic link"}
    expect(seen == wanted, f"a folder outside the layer that a symbolic link of the layer points to",
           expected=f"untouched: {wanted}", observed=seen)


def _refused(ov, merged: str, argv: list[str], roles: list[str], paths: list[str], errno_text: str, what: str):
    result, report = ov.run("mount", merged, *argv)
    error = report["errors"][0] if report["errors"] else ""
    expect(result.exit == 1 and all(r in error for r in roles) and all(p in error for p in paths)
           and error.endswith(f"[{errno_text}]"), what,
           expected=f"error: ovl_mount: ... naming {' and '.join(f'{r} {p}' for r, p in zip(roles, paths))} "
                    f"[{errno_text}]", observed=ov.said(report))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none", observed="mounted")


def test_overlapping_refused(lab, ov):
    root = ov.scratch()
    image = ov.tree(f"{root}/image", {"etc/motd": "m\n"})
    merged = f"{root}/merged"
    ov.mkdirs(merged, f"{root}/image/upper", f"{root}/work", f"{root}/up/work")
    _refused(ov, merged, ["--upper", f"{image}/upper", "--work", f"{root}/work", image],
             ["upperdir", "lowerdir"], [f"{image}/upper", image], "Invalid argument",
             "an upperdir inside the lowerdir (the kernel would mount it, with undefined results)")
    _refused(ov, merged, ["--upper", f"{root}/up", "--work", f"{root}/up/work", image],
             ["workdir", "upperdir"], [f"{root}/up/work", f"{root}/up"], "Invalid argument",
             "a workdir inside the upperdir")
    # Neighbours whose names share a prefix do not overlap.
    ov.mkdirs(f"{root}/upper", f"{root}/upper-work")
    result, report = ov.run("mount", merged, "--upper", f"{root}/upper", "--work", f"{root}/upper-work", image)
    expect(result.exit == 0 and ov.mounted(merged),
           f"upperdir {root}/upper with workdir {root}/upper-work: two separate folders",
           expected="mounted", observed=f"{result.describe()}: {ov.said(report)}")


def test_other_fs_refused(lab, ov):
    root = ov.scratch()
    shm = ov.scratch("/dev/shm")  # another tmpfs: another filesystem
    lower = ov.tree(f"{root}/lower", {"etc/motd": "m\n"})
    merged, upper, work = f"{root}/merged", f"{root}/upper", f"{shm}/work"
    ov.mkdirs(merged, upper, work)
    _refused(ov, merged, ["--upper", upper, "--work", work, lower], ["workdir", "upperdir"], [work, upper],
             "Invalid cross-device link", "a workdir on another filesystem than the upperdir (/dev/shm, /tmp)")


def test_long_options_refused(lab, ov):
    root = ov.scratch()
    # 24 layers with 200-character paths: about 4 900 bytes of options, more
    # than the page the kernel reads.  Cut short, the list would name other
    # layers, or half a path.
    names = [f"{i:02d}-" + "x" * (200 - len(root) - 11) for i in range(24)]
    ov.tree(f"{root}/layers", {f"{name}/file{i}": f"{i}\n" for i, name in enumerate(names)})
    layers = [f"{root}/layers/{name}" for name in names]
    upper, work, merged = f"{root}/upper", f"{root}/work", f"{root}/merged"
    ov.mkdirs(upper, work, merged)
    result, report = ov.run("mount", merged, "--upper", upper, "--work", work, *layers)
    error = report["errors"][0] if report["errors"] else ""
    expect(result.exit == 1 and error.endswith("[Argument list too long]"),
           f"ovl_mount of 24 layers whose options need {sum(len(p) + 1 for p in layers) + 30} bytes",
           expected="error: ovl_mount: ... [Argument list too long] (E2BIG: more than one page)",
           observed=ov.said(report))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none",
           observed="mounted, with options cut short")
