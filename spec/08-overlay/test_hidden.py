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


def _refused(ov, merged: str, argv: list[str], roles: list[str], paths: list[str], errno_name: str, what: str):
    result, report = ov.run("mount", merged, *argv)
    ov.refused(result, report, "ovl_mount", errno_name, what, why_names=tuple(roles) + tuple(paths))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none", observed="mounted")


def test_overlapping_refused(lab, ov):
    root = ov.scratch()
    image = ov.tree(f"{root}/image", {"etc/motd": "m\n"})
    merged = f"{root}/merged"
    ov.mkdirs(merged, f"{root}/image/upper", f"{root}/work", f"{root}/up/work")
    _refused(ov, merged, ["--upper", f"{image}/upper", "--work", f"{root}/work", image],
             ["upperdir", "lowerdir"], [f"{image}/upper", image], "EINVAL",
             "an upperdir inside the lowerdir (the kernel would mount it, with undefined results)")
    _refused(ov, merged, ["--upper", f"{root}/up", "--work", f"{root}/up/work", image],
             ["workdir", "upperdir"], [f"{root}/up/work", f"{root}/up"], "EINVAL",
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
    ov.mkdirs(merged, upper, work, f"{root}/work")
    _refused(ov, merged, ["--upper", upper, "--work", work, lower], ["workdir", "upperdir"], [work, upper],
             "EXDEV", "a workdir on another filesystem than the upperdir (/dev/shm, /tmp)")
    # Only upper and work must share a filesystem: a lower layer may be anywhere.
    shm_lower = ov.tree(f"{shm}/lower", {"etc/motd": "m\n"})
    result, report = ov.run("mount", merged, "--upper", upper, "--work", f"{root}/work", shm_lower)
    expect(result.exit == 0 and ov.mounted(merged),
           f"a lowerdir on /dev/shm with upperdir and workdir on /tmp", expected="mounted",
           observed=f"{result.describe()}: {ov.said(report)}")


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
    failed = ov.refused(result, report, "ovl_mount", "E2BIG",
                        f"ovl_mount of 24 layers whose options need {sum(len(p) + 1 for p in layers) + 30} bytes "
                        "(more than one page)", why_starts="mount options: ")
    expect("contain" not in failed["why"] and "4095 bytes" in failed["why"], "the explanation of options too long",
           expected="mount options: longer than the 4095 bytes the kernel reads", observed=repr(failed["why"]))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none",
           observed="mounted, with options cut short")


# ------------------------------------------------------------------ exact results
def _check(ov, *argv, **options):
    result, report = ov.run("check", *argv, **options)
    expect(report.get("heap leaked") == 0, f"`ovlctl check {' '.join(argv)[:200]}`: memory ovl_check keeps",
           expected="heap leaked 0 (every block freed, on success and on refusal)",
           observed=ov.said(report)[:400])
    return result, report


def test_shape_refused(lab, ov):
    root = ov.scratch()
    a, b, up, work = f"{root}/a", f"{root}/b", f"{root}/up", f"{root}/work"
    ov.mkdirs(a, b, up, work)
    shapes = [
        (["--upper", up, "--work", work], ("lowerdir",), "no lowerdir at all"),
        (["--upper", up, a], ("upperdir", "workdir"), "an upperdir without a workdir"),
        (["--work", work, a], ("upperdir", "workdir"), "a workdir without an upperdir"),
        ([a], ("lowerdirs", "upperdir"), "a read-only overlay (no upperdir) of one lowerdir"),
    ]
    for argv, names, what in shapes:
        result, report = _check(ov, *argv)
        ov.refused(result, report, "ovl_check", "EINVAL", f"ovl_check of {what}", why_names=names)
    result, report = _check(ov, a, b)
    expect(result.exit == 0 and report.get("ok"), "ovl_check of a read-only overlay of two lowerdirs",
           expected="ok", observed=f"{result.describe()}: {ov.said(report)}")


# Builds, from folder, 15 nested folders of 242-character names (an absolute
# path of about 3 700 characters), and under the last one e.../f...: a
# relative path of 501 characters whose real path is longer than PATH_MAX.
DEEP = """import os, sys
os.chdir(sys.argv[1])
for i in range(15):
    name = f"{i:02d}" + "d" * 240
    os.mkdir(name)
    os.chdir(name)
os.makedirs("e" * 250 + "/" + "f" * 250)
print(os.getcwd())
"""


def test_check_exact(lab, ov):
    root = ov.scratch()
    image = ov.tree(f"{root}/image", {"etc/motd": "m\n", "file": "not a folder\n"})
    up, work = f"{root}/up", f"{root}/work"
    ov.mkdirs(up, work, f"{image}/work", f"{root}/other")
    result, report = _check(ov, "--upper", up, "--work", work, image)
    expect(result.exit == 0 and report.get("ok"), "ovl_check of separate upperdir, workdir and lowerdir",
           expected="ok", observed=f"{result.describe()}: {ov.said(report)}")
    result, report = _check(ov, "--upper", up, "--work", work, f"{image}/file")
    ov.refused(result, report, "ovl_check", "ENOTDIR", "ovl_check of a regular file as lowerdir",
               why_names=("lowerdir", f"{image}/file"))
    result, report = _check(ov, "--upper", up, "--work", f"{image}/work", image)
    ov.refused(result, report, "ovl_check", "EINVAL", "ovl_check of a workdir inside the lowerdir",
               why_names=("workdir", "lowerdir", f"{image}/work", image))
    # Inside, in the other direction: the later directory holds the earlier one.
    ov.mkdirs(f"{up}/lower", f"{root}/w2/up2")
    result, report = _check(ov, "--upper", up, "--work", work, f"{up}/lower")
    ov.refused(result, report, "ovl_check", "EINVAL", "ovl_check of a lowerdir inside the upperdir",
               why_names=("upperdir", "lowerdir", up, f"{up}/lower"))
    result, report = _check(ov, "--upper", f"{root}/w2/up2", "--work", f"{root}/w2", image)
    ov.refused(result, report, "ovl_check", "EINVAL", "ovl_check of an upperdir inside the workdir",
               why_names=("upperdir", "workdir", f"{root}/w2/up2", f"{root}/w2"))
    result, report = _check(ov, "--upper", up, "--work", work, "/")
    ov.refused(result, report, "ovl_check", "EINVAL", "ovl_check of lowerdir / (every folder is inside it)",
               why_names=("upperdir", "lowerdir"))
    result, report = _check(ov, f"{root}/other", "/")
    expect(result.exit == 0 and report.get("ok"), "ovl_check of a read-only overlay of / and a folder: "
           "lower layers may overlap", expected="ok", observed=f"{result.describe()}: {ov.said(report)}")

    # 10 000 lowerdirs with 256 KiB of address space left: a solution that
    # allocates for them gets ENOMEM, one that does not finds x missing.
    result, report = ov.run("check", "--short-memory", *["x"] * 10000, cwd=root)
    failed = ov.failure(report)
    seen = (result.exit, failed["rc"], failed["errno"], bool(failed["why"]))
    expect(seen in ((1, -1, "ENOMEM", True), (1, -1, "ENOENT", True)),
           "ovl_check of 10 000 lowerdirs (x, missing) when memory is short",
           expected="error: ovl_check returned -1, errno ENOMEM or ENOENT, with the reason",
           observed=f"{result.describe()}: {ov.said(report)[:300]}")

    # stat() of the relative path works; its real path does not fit PATH_MAX.
    made = lab.run("python3", "-c", DEEP, root)
    expect(made.exit == 0, "building a deep folder (set-up)", expected="done", observed=made.describe())
    deep = made.stdout.strip()
    relative = "e" * 250 + "/" + "f" * 250
    try:
        result, report = _check(ov, relative, relative, cwd=deep)
        ov.refused(result, report, "ovl_check", "ENAMETOOLONG",
                   f"ovl_check of a lowerdir whose real path is {len(deep) + 502} characters (realpath fails)",
                   why_names=("lowerdir", relative))
    finally:
        lab.run("python3", "-c", "import shutil, sys; shutil.rmtree(sys.argv[1])", f"{root}/00" + "d" * 240)


def test_options_exact(lab, ov):
    def options(size, *argv):
        result, report = ov.run("options", str(size), *argv)
        expect("overflow" not in report, f"ovl_options({' '.join(argv)}) into {size} bytes",
               expected="nothing written past the buffer", observed=f"{report.get('overflow')} bytes written past it")
        return result, report

    cases = [(["a", "b"], "lowerdir=b:a"), (["--upper", "u", "--work", "w", "a", "b"],
                                              "lowerdir=b:a,upperdir=u,workdir=w")]
    for argv, text in cases:
        result, report = options(len(text) + 1, *argv)
        expect(result.exit == 0 and report.get("options") == text,
               f"ovl_options({' '.join(argv)}) into exactly {len(text) + 1} bytes (the text and its NUL)",
               expected=f"options {text}", observed=f"{result.describe()}: {ov.said(report)}")
        # Too short at every piece: "lowerdir=", a layer, ':', ",upperdir=", ...
        for size in sorted({0, 1, 9, 10, 11, 12, len(text) - 8, len(text) - 2, len(text)}):
            if size > len(text):
                continue
            result, report = options(size, *argv)
            ov.refused(result, report, "ovl_options", "E2BIG",
                       f"ovl_options({' '.join(argv)}) into {size} bytes (it needs {len(text) + 1})")
    for argv, bad in ((["a,b", "c"], "a,b"), (["a", "c:d"], "c:d"), (["--upper", "u:v", "--work", "w", "a"], "u:v"),
                      (["--upper", "u", "--work", "w,x", "a"], "w,x")):
        result, report = options(4096, *argv)
        ov.refused(result, report, "ovl_options", "EINVAL", f"ovl_options with the path {bad}")


def test_mount_errors_explained(lab, ov):
    root = ov.scratch()
    odd = ov.tree(f"{root}/odd,name", {"etc/motd": "m\n"})
    lower = ov.tree(f"{root}/lower", {"etc/motd": "m\n"})
    upper, work, merged = f"{root}/upper", f"{root}/work", f"{root}/merged"
    ov.mkdirs(upper, work, merged)
    result, report = ov.run("mount", merged, "--upper", upper, "--work", work, lower, odd)
    ov.refused(result, report, "ovl_mount", "EINVAL", f"ovl_mount of a lowerdir named {odd} (a ',' in it)",
               why_starts="mount options: ", why_names=("','",))
    expect(not ov.mounted(merged), f"mounts on {merged} after the refusal", expected="none", observed="mounted")
    nowhere = f"{root}/not-there"
    result, report = ov.run("mount", nowhere, "--upper", upper, "--work", work, lower)
    ov.refused(result, report, "ovl_mount", "ENOENT", f"ovl_mount on {nowhere}, which does not exist",
               why_starts=f"mount overlay on {nowhere}")


def test_markers_exact(lab, ov):
    root = ov.scratch()
    layer = ov.tree(f"{root}/layer", {"etc/motd": "m\n"})
    path = f"{layer}/gone"
    result, report = ov.run("whiteout", path)
    expect(result.exit == 0 and ov.kind(path) == WHITEOUT, f"`ovlctl whiteout {path}`",
           expected=WHITEOUT, observed=f"{result.describe()}: {ov.said(report)}; {ov.kind(path)}")
    mode = lab.machine.lstat(path).mode & 0o7777
    expect(mode == 0, f"the permissions of the whiteout {path}", expected="0000 (as overlayfs makes them)",
           observed=f"{mode:04o}")
    result, report = ov.run("whiteout", path)
    ov.refused(result, report, "ovl_whiteout", "EEXIST", f"a second whiteout at {path}")
    for attempt in ("first", "second"):
        result, report = ov.run("opaque", f"{layer}/etc")
        expect(result.exit == 0 and ov.xattr(f"{layer}/etc") == "b'y'",
               f"`ovlctl opaque {layer}/etc`, the {attempt} time (a directory may be marked again)",
               expected=f"opaque {layer}/etc, and the attribute b'y'",
               observed=f"{result.describe()}: {ov.said(report)}; {ov.xattr(f'{layer}/etc')}")


def test_import_errors(lab, ov):
    root = ov.scratch()
    # Converting closes every folder it opened, on success too.
    layer = ov.tree(f"{root}/ok", {"a/b/c/.wh.x": "", "a/b/d/.wh.y": "", "e/f/g": "g\n"})
    result, report = ov.run("import", layer)
    expect(result.exit == 0 and report.get("imported") == 2 and report.get("fds leaked") == 0,
           f"`ovlctl import {layer}` (7 folders)", expected="fds leaked 0, imported 2",
           observed=f"{result.describe()}: {ov.said(report)}")

    for marker in (".wh.", ".wh..", ".wh..."):
        layer = ov.tree(f"{root}/bad{len(marker)}", {f"sub/{marker}": "", "sub/keep": "k\n"})
        result, report = ov.run("import", layer)
        ov.refused(result, report, "ovl_import_layer", "EINVAL",
                   f"importing a layer with the marker sub/{marker} (it names no file)")
        seen = {"marker": ov.kind(f"{layer}/sub/{marker}"), "fds leaked": report.get("fds leaked")}
        wanted = {"marker": "regular file", "fds leaked": 0}
        expect(seen == wanted, f"{layer}/sub/{marker} and open folders after the refusal", expected=wanted,
               observed=seen)

    # A marker for a file the same layer also has: the whiteout cannot be made.
    layer = ov.tree(f"{root}/both", {"etc/.wh.motd": "", "etc/motd": "m\n"})
    result, report = ov.run("import", layer)
    ov.refused(result, report, "ovl_import_layer", "EEXIST",
               f"importing {layer}, which has both etc/.wh.motd and etc/motd")

    result, report = ov.run("import", f"{root}/absent")
    ov.refused(result, report, "ovl_import_layer", "ENOENT", "importing a layer that does not exist")

    # "DIR/.wh.f" of exactly 4096 characters, one more than PATH_MAX allows:
    # refused whole (ENAMETOOLONG), or converted by a walk that does not build
    # such paths; never a cut path, another file, or a marker skipped.
    layer = ov.tree(f"{root}/layers", {".wh.f": ""})
    long_dir = "./" * 2042 + "layers"
    result, report = ov.run("import", long_dir, cwd=root)
    failed = ov.failure(report)
    seen = {"driver": (failed["rc"], failed["errno"]) if failed["rc"] is not None else report.get("imported"),
            ".wh.f": ov.kind(f"{layer}/.wh.f"), "f": ov.kind(f"{layer}/f")}
    refused = {"driver": (-1, "ENAMETOOLONG"), ".wh.f": "regular file", "f": "missing"}
    converted = {"driver": 1, ".wh.f": "missing", "f": WHITEOUT}
    expect(seen in (refused, converted), "importing a layer whose marker's path (folder, '/', .wh.f) is "
           "4096 characters", expected=f"{refused}, or {converted}", observed=seen)

    # As an ordinary user, on a layer the user owns: what only root may do fails.
    for name, files, errno_name, what in (
            ("opq", {"etc/.wh..wh..opq": "", "etc/motd": "m\n"}, "EPERM", "setting trusted.overlay.opaque"),
            ("closed", {"etc/motd": "m\n"}, "EACCES", "reading a folder without search permission")):
        layer = ov.tree(f"{root}/user-{name}", files)
        lab.sh(f"chown -R 1000:1000 {layer}" + (f" && chmod 0444 {layer}/etc" if name == "closed" else ""))
        result, report = ov.run("import", layer, uid=1000, gid=1000)
        ov.refused(result, report, "ovl_import_layer", errno_name,
                   f"importing {layer} as an ordinary user ({what} is refused)")

