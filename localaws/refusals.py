"""A refusal in the service's own error format, raised where moto authorizes a request.

S3 and the query protocols (SNS, STS) both turn an HTTPException raised in moto's
ActionAuthenticatorMixin._authenticate_and_authorize_action into their response, in the in-process
mock and in the server alike. The emulated service control policies (localaws.controls) and role trust
(localaws.trust_policies) refuse through it.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from werkzeug.exceptions import HTTPException


class Denied(ServiceException):
    """The error a service answers when a policy refuses the request."""


class Refused(HTTPException):
    def __init__(self, status: int, headers: dict[str, Any], body: str | bytes) -> None:
        super().__init__(description=body if isinstance(body, str) else body.decode("utf-8"))
        self.code = status
        self._headers = {k: str(v) for k, v in headers.items() if k.lower() not in ("status", "content-length")}

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return self.description or ""

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return list(self._headers.items())


def refuse(response: Any, code: str, message: str) -> NoReturn:
    """Answer the request with HTTP 403 and the service's error (code, message), as AWS does."""
    with warnings.catch_warnings():
        # STS's model has no AccessDenied shape (AWS answers it all the same); moto warns about that.
        warnings.simplefilter("ignore", UserWarning)
        _status, headers, body = response.serialized(ActionResult(Denied(code, message)))
    raise Refused(403, headers, body)
