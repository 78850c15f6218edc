"""The two kinds of trouble the harness tells apart.

InfraError: the machinery failed (no kernel, a VM that never boots, a guest
that stops answering twice).  It is never counted against a student.

GuestLost: the guest died or stopped answering while a case ran.  The runner
retries the case once in a fresh guest; if it happens again during the
student's program, the case fails with that reason.
"""


class InfraError(RuntimeError):
    """The grading machinery failed; the submission is not to blame."""


class GuestLost(RuntimeError):
    """The guest crashed, powered off or stopped answering."""
