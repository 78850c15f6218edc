"""The host's end of the guest agent's protocol (see guest/agent.c).

A message is a 4-byte big-endian length and then fields, each a pair of
netstrings.  Every request carries a sequence number that the agent echoes,
so that an answer to an earlier, abandoned request is recognised and dropped.
"""
from __future__ import annotations

import socket
import struct
import time

from ..errors import GuestLost

Value = "str | bytes | int | list[str] | None"


def encode(fields: dict) -> bytes:
    body = bytearray()
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = "\0".join(value)
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.encode()
        for item in (key.encode(), value):
            body += b"%d:" % len(item) + item + b","
    return struct.pack(">I", len(body)) + bytes(body)


def decode(body: bytes) -> dict[str, bytes]:
    fields: dict[str, bytes] = {}
    items = []
    pos = 0
    while pos < len(body):
        colon = body.index(b":", pos)
        length = int(body[pos:colon])
        items.append(body[colon + 1:colon + 1 + length])
        pos = colon + 2 + length
    for key, value in zip(items[::2], items[1::2]):
        fields[key.decode()] = value
    return fields


class AgentError(OSError):
    """The agent could not do what was asked (errno and message from the guest)."""


class AgentClient:
    def __init__(self, path: str, on_lost=None) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.seq = 0
        self.buffer = b""
        self.on_lost = on_lost  # called to learn why the guest went away

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
                self.sock = sock
                return
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise GuestLost(f"agent socket {self.path} never appeared")
                time.sleep(0.01)

    def close(self) -> None:
        if self.sock:
            self.sock.close()
            self.sock = None

    def _lost(self, why: str) -> GuestLost:
        detail = self.on_lost() if self.on_lost else ""
        return GuestLost(why + (f" ({detail})" if detail else ""))

    def _read_message(self, deadline: float) -> bytes | None:
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack(">I", self.buffer[:4])
                if len(self.buffer) >= 4 + length:
                    body = self.buffer[4:4 + length]
                    self.buffer = self.buffer[4 + length:]
                    return body
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(min(left, 0.5))
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as exc:
                raise self._lost(f"agent connection failed: {exc}")
            if not chunk:
                raise self._lost("the guest closed the agent connection")
            self.buffer += chunk

    def call(self, op: str, timeout: float, **fields) -> dict[str, bytes]:
        """Sends one request and returns the answer's fields.

        Raises GuestLost when no answer comes within timeout seconds, and
        AgentError when the agent answers that it failed.
        """
        if not self.sock:
            raise GuestLost("not connected to the guest agent")
        self.seq += 1
        seq = str(self.seq).encode()
        try:
            self.sock.settimeout(max(timeout, 5.0))
            self.sock.sendall(encode({"op": op, "seq": seq, **fields}))
        except OSError as exc:
            raise self._lost(f"cannot reach the guest agent: {exc}")
        deadline = time.monotonic() + timeout
        while True:
            body = self._read_message(deadline)
            if body is None:
                raise self._lost(f"the guest agent did not answer '{op}' within {timeout:.1f} s")
            answer = decode(body)
            if answer.get("seq") != seq:
                continue  # late answer to an abandoned request
            if answer.get("ok") != b"1":
                raise AgentError(int(answer.get("errno", b"0")),
                                 answer.get("error", b"agent error").decode(errors="replace"))
            return answer

    def ping(self, timeout: float) -> None:
        """Waits for the agent, pinging every 100 ms until it answers."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("ping", timeout=0.1)
                return
            except GuestLost:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
