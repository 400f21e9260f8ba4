"""The errors bhubctl reports: each message says what failed, for what, and what to do."""


class BenchHubError(Exception):
    """Base of every error bhubctl turns into a one-line message and a non-zero exit code."""

    exit_code = 2


class ConfigError(BenchHubError):
    """bhub.yaml is missing or invalid."""


class GitError(BenchHubError):
    """The repository state (commit, branch, remote) cannot be read."""


class ParseError(BenchHubError):
    """A benchmark's output does not have the format its framework promises."""

    exit_code = 3

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class ServiceError(BenchHubError):
    """central or the agent is unreachable or refused a request.

    ``retryable``: the same request may succeed later (unreachable, 5xx, 429), as opposed to
    one refused for what it says (4xx).
    """

    def __init__(self, message: str, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class StackError(BenchHubError):
    """A local stack component cannot be started, checked or stopped."""
