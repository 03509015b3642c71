"""Refusals of the campaigns app; each carries a message fit for the user."""

from django.utils.translation import gettext_lazy as _

from points.exceptions import HeheError


class CampaignError(HeheError):
    default_message = _("评选操作被拒绝")


class NotEligible(CampaignError):
    pass


class VotingClosed(CampaignError):
    default_message = _("现在不在投票时间内")


class AlreadyVoted(CampaignError):
    default_message = _("本户已经投过票，选票不能更改")


class BadBallot(CampaignError):
    pass


class ResultsHidden(CampaignError):
    default_message = _("计票结果尚未公布")
