"""Kubernetes `Status` errors with the real apiserver's reasons, codes and message shapes."""

from __future__ import annotations

from typing import Any

from simulator.kube.resources import ResourceType


class ApiError(Exception):
    """An error answer: raising it anywhere in a request produces this Status."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(rtype: ResourceType, name: str | None, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name} if name else {}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    details.update(extra)
    return details


def _named(rtype: ResourceType, name: str | None) -> str:
    return f'{rtype.group_resource} "{name}"' if name else rtype.group_resource


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f"{_named(rtype, name)} not found", _details(rtype, name))


def already_exists(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f"{_named(rtype, name)} already exists", _details(rtype, name))


def conflict(rtype: ResourceType, name: str) -> ApiError:
    message = (
        f"Operation cannot be fulfilled on {_named(rtype, name)}: the object has been modified; "
        "please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", message, _details(rtype, name))


def forbidden(
    rtype: ResourceType, name: str | None, verb: str, user: str, namespace: str | None, subresource: str = ""
) -> ApiError:
    resource = f"{rtype.plural}/{subresource}" if subresource else rtype.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{_named(rtype, name)} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{rtype.group}" {scope}'
    )
    return ApiError(403, "Forbidden", message, _details(rtype, name))


def invalid(
    rtype: ResourceType, name: str, field: str, detail: str, cause_type: str = "FieldValueRequired"
) -> ApiError:
    message = f'{rtype.kind} "{name}" is invalid: {field}: {detail}'
    cause = {"reason": cause_type, "message": detail, "field": field}
    return ApiError(422, "Invalid", message, {**_details(rtype, name), "kind": rtype.kind, "causes": [cause]})


def unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unsupported_media_type(accepted: tuple[str, ...]) -> ApiError:
    message = "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted)
    return ApiError(415, "UnsupportedMediaType", message)


def method_not_allowed(rtype: ResourceType, name: str | None = None) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        _details(rtype, name),
    )


def path_not_found(path: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        "the server could not find the requested resource",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": f"404 page not found: {path}"}]},
    )


def internal_error(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def too_many_requests(retry_after: int = 1) -> ApiError:
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after},
        {"Retry-After": str(retry_after)},
    )


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def from_status_code(code: int, message: str) -> ApiError:
    """A generic error for an injected HTTP status the specific helpers do not cover."""
    reasons = {
        400: "BadRequest",
        401: "Unauthorized",
        404: "NotFound",
        409: "Conflict",
        410: "Expired",
        422: "Invalid",
        503: "ServiceUnavailable",
        504: "Timeout",
    }
    return ApiError(code, reasons.get(code, "InternalError" if code >= 500 else "BadRequest"), message)
