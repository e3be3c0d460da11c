"""Who may use the control plane: the `/_sim/` routes and the `X-Sim-Fault` header.

Only the simulator's owner, never a web page the owner happens to visit, nor another
machine when the simulator is bound beyond loopback:

- SIM-HOST: without a token, the `Host` header names loopback (`localhost`) or an IP
  address, so a DNS-rebinding page (`Host: evil.example`) is refused.
- SIM-ORIGIN: a request that a browser marks as coming from another site (`Origin` not this
  server's own, `Sec-Fetch-Site: cross-site`) is refused.
- SIM-CONTROL-HEADER: a state-changing control call carries `X-Sim-Control`. A custom header
  makes a browser ask first (a CORS preflight), which the simulator never grants, so no page
  can send one; `X-Sim-Fault` is such a header itself.
- SIM-TOKEN: with a control token (`frontier-sim` bound beyond loopback makes one and prints
  it), every control call and every `X-Sim-Fault` request carries `X-Sim-Control: <token>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONTROL_HEADER = "X-Sim-Control"
CONTROL_KEY = "HTTP_X_SIM_CONTROL"  # as it appears in a WSGI environ
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str

    def json(self) -> dict[str, Any]:
        return {"error": f"{self.message} ({self.rule})"}


@dataclass(frozen=True)
class ControlGuard:
    """The control plane's rules; `token` None means loopback use, without a token."""

    token: str | None = None

    def refusal(self, environ: Mapping[str, Any], *, changes_state: bool) -> Refusal | None:
        """Why this request may not use the control plane, or None when it may.

        `changes_state`: a control call that isn't a read (SIM-CONTROL-HEADER), or a request
        carrying `X-Sim-Fault`.
        """
        host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
        sent = environ.get(CONTROL_KEY)
        if self.token is not None:
            if sent is None or not hmac.compare_digest(str(sent).encode(), self.token.encode()):
                return Refusal(
                    "SIM-TOKEN",
                    f"The control API needs the header '{CONTROL_HEADER}: <token>' with the "
                    "token frontier-sim printed at start.",
                )
        elif not _local_host(host):
            return Refusal(
                "SIM-HOST",
                "The control API answers only requests addressed to localhost or an IP "
                "address (Host header).",
            )
        if _cross_site(environ, host):
            return Refusal("SIM-ORIGIN", "The control API refuses requests from web pages.")
        if changes_state and sent is None:
            return Refusal(
                "SIM-CONTROL-HEADER",
                f"A control call that changes state needs the header '{CONTROL_HEADER}: 1'.",
            )
        return None


def new_token() -> str:
    """A control token: 32 URL-safe characters from the system's random source."""
    return secrets.token_urlsafe(24)


def _local_host(host: str) -> bool:
    """True for `localhost` (and `*.localhost`) or an IP literal, with or without a port."""
    if host.startswith("["):  # [::1]:8080
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _cross_site(environ: Mapping[str, Any], host: str) -> bool:
    """A browser's own marks of a request made by another site's page."""
    if str(environ.get("HTTP_SEC_FETCH_SITE", "")).lower() in ("cross-site", "same-site"):
        return True
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return False
    return str(origin).lower() not in (f"http://{host}".lower(), f"https://{host}".lower())
