"""Small pieces: the agent's wire format, the norm's nm parsing, mountinfo."""
from harness import casekit, norm
from harness.vm.agent import decode, encode


def test_agent_messages_round_trip():
    raw = encode({"op": "spawn", "argv": ["a", "b c"], "n": 3, "data": b"\x00\xff", "none": None})
    body = raw[4:]
    assert int.from_bytes(raw[:4], "big") == len(body)
    assert decode(body) == {"op": b"spawn", "argv": b"a\0b c", "n": b"3", "data": b"\x00\xff"}


def test_nm_output_is_parsed_to_names():
    out = "                 U fork@GLIBC_2.2.5\n                 U __stack_chk_fail\n                 U puts\n"
    assert norm.undefined_symbols(out) == ["fork", "__stack_chk_fail", "puts"]


def test_mountinfo_propagation():
    text = ("36 35 98:0 /mnt1 /mnt1 rw,noatime master:1 - ext3 /dev/root rw\n"
            "37 35 98:0 / /a rw shared:5 - tmpfs none rw\n"
            "38 35 98:0 / /b rw - tmpfs none rw\n"
            "39 35 98:0 / /c rw unbindable - tmpfs none rw\n")
    mounts = casekit.parse_mountinfo(text)
    assert [m.propagation for m in mounts] == ["slave", "shared", "private", "unbindable"]
    assert mounts[1].point == "/a" and mounts[1].fstype == "tmpfs"


def test_expect_says_what_it_saw():
    try:
        casekit.expect(False, "the answer", expected=42, observed=41)
    except casekit.CaseFailed as exc:
        assert str(exc) == "the answer\n  expected: 42\n  observed: 41"
    else:
        raise AssertionError("expect(False) must fail")
