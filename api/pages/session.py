"""Browser sessions: an API key checked once at login, then a signed HttpOnly cookie.

The cookie reads ``<key id>.<expiry>.<nonce>.<signature>``: HMAC-SHA256 over the first three
parts with a per-install secret kept in the API's SQLite file (``api_meta``), so sessions
survive a restart and are worthless on another install. The key secret itself never goes
into the cookie; each request looks the key id up again, so revoking the key ends every
session opened with it at once. POST forms carry a CSRF token derived from the nonce, and
the cookie is ``SameSite=Strict``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from api.auth import ApiDatabase, Principal

COOKIE = "cg_session"
LIFETIME_SECONDS = 8 * 3600  # one working day
_SECRET_META = "ui.session_secret"


def session_secret(db: ApiDatabase) -> bytes:
    """Return this install's session secret (created on first use, kept in the API file)."""
    db.execute("INSERT OR IGNORE INTO api_meta(key, value) VALUES (?, ?)", (_SECRET_META, secrets.token_hex(32)))
    return bytes.fromhex(db.execute("SELECT value FROM api_meta WHERE key = ?", (_SECRET_META,))[0][0])


def _sign(secret: bytes, payload: str) -> str:
    mac = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class Session:
    """A valid session: whose key, and the token its forms must carry."""

    principal: Principal
    nonce: str
    csrf: str
    expires: int


def issue(secret: bytes, key_id: str, now: float | None = None) -> str:
    """Return a cookie value for ``key_id``, valid for :data:`LIFETIME_SECONDS`."""
    expires = int((now or time.time()) + LIFETIME_SECONDS)
    payload = f"{key_id}.{expires}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_sign(secret, payload)}"


def csrf_token(secret: bytes, nonce: str) -> str:
    """Return the form token of the session with ``nonce``."""
    return _sign(secret, "csrf:" + nonce)


def read(secret: bytes, db: ApiDatabase, value: str | None, now: float | None = None) -> Session | None:
    """Return the session of a cookie value: signature, expiry and an unrevoked key, else None."""
    if not value or value.count(".") != 3:
        return None
    key_id, expires, nonce, signature = value.split(".")
    if not hmac.compare_digest(_sign(secret, f"{key_id}.{expires}.{nonce}"), signature):
        return None
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return None
    rows = db.execute("SELECT id, name, role FROM api_keys WHERE id = ? AND revoked IS NULL", (key_id,))
    if not rows:
        return None
    return Session(Principal(*rows[0]), nonce, csrf_token(secret, nonce), int(expires))
