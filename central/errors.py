"""Domain errors; one handler in central.app maps them to JSON ``{error, detail}``."""


class DomainError(Exception):
    """Base of every error central reports to a client."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class NotConfigured(DomainError):
    status_code = 503
    code = "not_configured"


class UpstreamFailed(DomainError):
    status_code = 502
    code = "upstream_failed"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
