"""Console users: creating them, checking passwords, locking out guessers, binding sessions.

Passwords are hashed with scrypt (memory-hard, in the standard library). A username that fails
to sign in `max_failures` times in a row is locked for `lockout` whatever is typed next, whether
or not an account has it (see `login_failures`), and the answer never tells an unknown user from
a wrong password. A console session carries a fingerprint of the password it was opened with,
so a new password signs every older session out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from postal_svc.access.login_failures import (
    LockoutPolicy, clear_failures, count_failure, hold_failures)
from postal_svc.access.models import ApiClient, StaffUser
from postal_svc.access.service import KEY_PREFIX, Caller, Role, hash_key
from postal_svc.errors import Conflict, DomainError, NotFound, RuleViolation

STAFF_ROLES = (Role.DISPATCHER, Role.ADMIN)
USERNAME = re.compile(r"[a-z0-9][a-z0-9._\-]{1,62}")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and about 0.1 s per check on a server core.
SCRYPT_COST = (2 ** 15, 8, 1)  # n, r, p
# The cost new hashes are made with. Each hash carries its own parameters, so raising the cost
# later leaves old hashes checkable (tests lower it: they create users by the hundred).
scrypt_cost = SCRYPT_COST
_SCRYPT_MAXMEM = 64 * 1024 * 1024
# The key of a session's password fingerprint: fixed, so every process computes the same one.
_SESSION_FINGERPRINT_KEY = b"postal-svc console session / password fingerprint v1"


class InvalidStaffUser(RuleViolation):
    code = "invalid_user"


class StaffUserExists(Conflict):
    code = "user_exists"


class StaffUserNotFound(NotFound):
    code = "user_not_found"


class SignInRefused(DomainError):
    """Wrong username or password, or the username is locked (`locked_until`); an unknown or
    disabled account is refused exactly as a wrong password."""

    code = "sign_in_refused"

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


# -- passwords ------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    n, r, p = scrypt_cost
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p,
                            maxmem=_SCRYPT_MAXMEM, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), maxmem=_SCRYPT_MAXMEM, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


# Checked against when the username is unknown, so both answers take as long.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches, made on first need (not at import: every CLI command and
    worker would pay a 32 MiB scrypt for it)."""
    return hash_password(secrets.token_urlsafe(16))


def validate_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidStaffUser(
            f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            errors={"password": [f"At least {MIN_PASSWORD_LENGTH} characters."]})


# -- users ----------------------------------------------------------------------------------

def normalize_username(raw: str) -> str:
    return raw.strip().lower()


def create_staff_user(session: Session, *, username: str, role: str, password: str,
                      post_office_codes: Iterable[str] = (),
                      office_exists: Callable[[str], bool], now: datetime) -> StaffUser:
    """A console user, with the API client they act through (its key is never issued).

    `office_exists` tells a known post office code (the directory sits beside this package)."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        raise InvalidStaffUser("A username has 2 to 63 letters, digits, '.', '_' or '-'.",
                               errors={"username": ["2-63 of a-z, 0-9, '.', '_', '-'."]})
    try:
        parsed_role = Role(role)
    except ValueError:
        parsed_role = None
    if parsed_role not in STAFF_ROLES:
        raise InvalidStaffUser("A console user is a dispatcher or an admin.",
                               errors={"role": ["One of: dispatcher, admin."]})
    codes = sorted({c.strip() for c in post_office_codes if c.strip()})
    if parsed_role is Role.DISPATCHER and not codes:
        raise InvalidStaffUser("A dispatcher needs a post office.",
                               errors={"post_office": ["Required for a dispatcher."]})
    if parsed_role is Role.ADMIN:
        codes = []
    validate_password(password)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
        raise StaffUserExists(f"The username {name!r} is taken.")
    unknown = [c for c in codes if not office_exists(c)]
    if unknown:
        raise InvalidStaffUser(f"Unknown post office {', '.join(unknown)}.",
                               errors={"post_office": [f"Unknown: {', '.join(unknown)}."]})
    unused_key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=f"console:{name}", role=parsed_role.value, scope=codes,
                       key_prefix="console", key_hash=hash_key(unused_key), created_at=now)
    session.add(client)
    session.flush()
    user = StaffUser(username=name, role=parsed_role.value, post_office_codes=codes,
                     password_hash=hash_password(password), client_id=client.id,
                     created_at=now)
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, username: str, password: str, *, now: datetime,
            policy: LockoutPolicy = LockoutPolicy()) -> StaffUser:
    """The user whose password this is; otherwise `SignInRefused`, counting the failure.

    Failures are counted under the normalised username whether or not an account has it, so
    an unknown name is refused, and locked, exactly as a real one: same message, same lock
    time, a password check as long (against a dummy hash). While a name is locked no password
    is checked. A success clears the count. The caller commits in both cases (the failure
    count must survive the refusal).
    """
    name = normalize_username(username[:200])
    password = password[:MAX_PASSWORD_LENGTH]
    if hold_failures(session, name, now=now) is not None:
        raise _refusal(count_failure(session, name, now=now, policy=policy))
    user = None
    # A name no account can have is not looked up (PostgreSQL refuses a NUL byte in text).
    if USERNAME.fullmatch(name):
        user = session.scalar(select(StaffUser).where(StaffUser.username == name))
    if user is None or user.disabled_at is not None:
        check_password(_dummy_hash(), password)
        raise _refusal(count_failure(session, name, now=now, policy=policy))
    if not check_password(user.password_hash, password):
        raise _refusal(count_failure(session, name, now=now, policy=policy))
    clear_failures(session, name)
    user.last_login_at = now
    return user


def _refusal(locked_until: datetime | None) -> SignInRefused:
    if locked_until is not None:
        return SignInRefused("Too many failed sign-ins; the account is locked for a while.",
                             locked_until=locked_until)
    return SignInRefused("Wrong username or password.")


def staff_caller(user: StaffUser) -> Caller:
    """The caller a console user acts as in every use case."""
    codes = frozenset(user.post_office_codes or ())
    return Caller(client_id=user.client_id, name=user.username, role=Role(user.role),
                  scope=frozenset() if user.role == Role.ADMIN.value else codes)


def session_fingerprint(user: StaffUser) -> str:
    """A short keyed digest of the user's current password hash, kept in their console session
    (signed, not encrypted: never the hash itself). A new password changes it."""
    mac = hmac.new(_SESSION_FINGERPRINT_KEY, user.password_hash.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")


def active_user(session: Session, user_id: int, fingerprint: object) -> StaffUser | None:
    """The user a console session stands for, while they may still sign in and their password
    is still the one the session was opened with (`fingerprint`, from `session_fingerprint`)."""
    user = session.get(StaffUser, user_id)
    if user is None or user.disabled_at is not None:
        return None
    if not isinstance(fingerprint, str) or not hmac.compare_digest(
            fingerprint.encode(), session_fingerprint(user).encode()):
        return None
    return user


def set_password(session: Session, username: str, password: str) -> StaffUser:
    """Give the user a new password: their lock-out is lifted and every console session opened
    with the old one is signed out. Raises `StaffUserNotFound`, `InvalidStaffUser`."""
    user = session.scalar(select(StaffUser).where(
        StaffUser.username == normalize_username(username)))
    if user is None:
        raise StaffUserNotFound(f"No user {username!r}.")
    validate_password(password)
    user.password_hash = hash_password(password)
    clear_failures(session, user.username)
    return user
