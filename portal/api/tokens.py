"""Bearer tokens: issuing (``POST /api/v1/token``), authenticating requests, revoking.

A token is a random secret; only its sha256 is stored (``portal.models.ApiToken``). Issuing signs in through
``django.contrib.auth.authenticate`` so django-axes counts failures and locks out exactly as on the login page.
A token lives ``HEHE_API_TOKEN_DAYS`` (90 by default) and only while its user's password is the one it was
issued under: re-issuing a resident's password ends every token that resident had, as it ends their sessions.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.security import HttpBearer

from points import clock
from portal.api import problems
from portal.api.schemas import Problem, TokenIn, TokenOut
from portal.models import ApiToken

TOKEN_PREFIX = "hehe_"
# Long enough for the prefix and 43 characters of urlsafe base64; anything longer is not ours, unread.
MAX_TOKEN_LENGTH = 100
# Writing last_used_at on every request would turn each read into a write; once a minute is enough to know.
LAST_USED_EVERY = datetime.timedelta(minutes=1)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


@transaction.atomic
def token_issue(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the plaintext, which is never stored and cannot be shown again."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=hash_token(plaintext),
        expires_at=clock.now() + datetime.timedelta(days=settings.HEHE_API_TOKEN_DAYS),
        password_stamp=user.get_session_auth_hash(),
    )
    return token, plaintext


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking twice keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_live(token: ApiToken, now) -> bool:
    """Not revoked, not expired, its user active and still on the password the token was issued under."""
    return (
        token.revoked_at is None
        and token.expires_at > now
        and token.user.is_active
        and bool(token.password_stamp)
        and constant_time_compare(token.password_stamp, token.user.get_session_auth_hash())
    )


def token_user(plaintext: str):
    """The active user a live token belongs to, or None."""
    if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH or not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(plaintext)).first()
    now = clock.now()
    if token is None or not token_live(token, now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``. The request then acts as the token's user, through ``points.scope``."""

    def authenticate(self, request, token):
        user = token_user(token.strip())
        if user is None:
            return None
        request.user = user
        return user


router = Router(tags=["token"])


@router.post(
    "/token",
    auth=None,
    response={201: TokenOut, frozenset({400, 401, 413, 429}): Problem},
    summary="Exchange credentials",
)
def token_create(request, payload: TokenIn):
    """Sign in with a username (staff) or login number / phone (resident) and a password.

    Throttled like the login page: after five failures from one address that identifier is locked for 15 minutes
    (429). The token is returned once; keep it secret and revoke it in the admin when a device is lost.
    """
    user = authenticate(request=request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        # django-axes would swap our answer for its HTML lockout page; the API answers in problem+json itself.
        request.axes_locked_out = False
        return problems.problem(
            429,
            _("密码输错次数过多，请 15 分钟后再试，或找村委重置密码。"),
            title=_("登录尝试过多"),
        )
    if user is None:
        return problems.problem(401, _("用户名、户号/手机号或密码不正确"), kind="bad-credentials")
    token, plaintext = token_issue(user=user, name=payload.name or _("接口令牌"))
    # A token is a sign-in: axes resets the failure count, Django records last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Status(201, {"token": plaintext, "id": token.id, "name": token.name, "created_at": token.created_at})
