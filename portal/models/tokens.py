"""The JSON API's bearer tokens (issued and checked in ``portal.api.tokens``)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token for the JSON API (``/api/v1/``), issued by ``POST /api/v1/token``.

    Only the sha256 of the token is stored, so a copy of the database cannot be used to call the API; the
    plaintext is shown once when issued. A token carries no permissions of its own: each request acts as
    ``user``, and ``points.scope`` decides what that user may do, exactly as on the web. Revoking sets
    ``revoked_at`` (the row stays, for the record of who used the API and when); a revoked token, one past
    ``expires_at``, one whose user is deactivated (an archived household's resident), and one issued before the
    user's password last changed (``password_stamp``: a committee re-issuing a resident's password ends every
    device that resident had signed in) no longer authenticates.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_api_tokens",  # Wagtail's own APIToken already takes "api_tokens"
        verbose_name=_("用户"),
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("用来认出这个令牌，如「超市收银机」"))
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("到期时间"), editable=False)
    # Django's session auth hash of the user when the token was issued (an HMAC of the password hash, never the
    # hash itself): a new password gives a new stamp, and the token stops working, as sessions do.
    password_stamp = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} · {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
