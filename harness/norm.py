"""The norm: which library functions a lab's student code may call.

Checked on the student's own objects with `nm -u` (the symbols an object
needs from elsewhere), compiled at -O0 -fno-builtin so that every call the
source makes is still a call to the function it names.  A lab's spec lists
forbidden functions, and optionally the allowed ones: then anything else,
apart from the compiler's own helpers (names starting with '_'), is refused.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .build import Runner
    from .spec import Lab


def undefined_symbols(nm_output: str) -> list[str]:
    """Function names from `nm -u` lines ('                 U fork@GLIBC_2.2.5')."""
    return [line.split()[-1].split("@")[0] for line in nm_output.splitlines() if line.strip()]


def norm_check(lab: "Lab", source: str, obj: str, run: "Runner", src: str) -> list[str]:
    """Functions the object calls that the lab's norm forbids or does not allow."""
    r = run(["nm", "-u", obj], src)
    found = []
    for name in undefined_symbols(r.stdout):
        if name in lab.norm.forbidden:
            found.append(f"{source} calls {name}(), which this lab forbids")
        elif lab.norm.allowed and name not in lab.norm.allowed and not name.startswith("_"):
            found.append(f"{source} calls {name}(), which is not in this lab's allowed functions")
    return found
