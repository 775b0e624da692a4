from django.urls import path

from proposals import apis
from proposals.comments import apis as comment_apis
from proposals.following import apis as following_apis
from proposals.search import apis as search_apis
from proposals.summary.apis import SummaryApi
from proposals.versions import apis as version_apis

urlpatterns = [
    path("follows/", following_apis.FollowApi.as_view(), name="follows"),
    path("notifications/", following_apis.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/read/",
        following_apis.NotificationReadApi.as_view(),
        name="notifications-read",
    ),
    path("proposals/", apis.ProposalListApi.as_view(), name="proposal-list"),
    path("proposals/<int:proposal_id>/", apis.ProposalDetailApi.as_view(), name="proposal-detail"),
    path(
        "proposals/<int:proposal_id>/withdraw/",
        apis.ProposalWithdrawApi.as_view(),
        name="proposal-withdraw",
    ),
    path(
        "proposals/<int:proposal_id>/moderation/",
        apis.ProposalModerationApi.as_view(),
        name="proposal-moderation",
    ),
    path(
        "proposals/<int:proposal_id>/answer/",
        apis.ProposalAnswerApi.as_view(),
        name="proposal-answer",
    ),
    path(
        "proposals/<int:proposal_id>/history/",
        apis.ProposalHistoryApi.as_view(),
        name="proposal-history",
    ),
    path(
        "proposals/<int:proposal_id>/reaction/",
        apis.ReactionApi.as_view(),
        name="proposal-reaction",
    ),
    path(
        "proposals/<int:proposal_id>/comments/",
        comment_apis.CommentListApi.as_view(),
        name="proposal-comments",
    ),
    path(
        "strategies/<slug:slug>/sections/",
        search_apis.SectionSearchApi.as_view(),
        name="section-search",
    ),
    path(
        "strategies/<slug:slug>/sections/<str:code>/comments/",
        comment_apis.SectionCommentListApi.as_view(),
        name="section-comments",
    ),
    path(
        "comments/flagged/",
        comment_apis.FlaggedCommentListApi.as_view(),
        name="comments-flagged",
    ),
    path("comments/<int:comment_id>/", comment_apis.CommentDetailApi.as_view(), name="comment"),
    path(
        "comments/<int:comment_id>/flags/",
        comment_apis.CommentFlagApi.as_view(),
        name="comment-flags",
    ),
    path(
        "comments/<int:comment_id>/moderation/",
        comment_apis.CommentModerationApi.as_view(),
        name="comment-moderation",
    ),
    path(
        "proposals/<int:proposal_id>/near-duplicates/",
        apis.ProposalNearDuplicatesApi.as_view(),
        name="proposal-near-duplicates",
    ),
    path("proposals/similar/", apis.SimilarProposalsApi.as_view(), name="proposal-similar"),
    path("me/proposals/", apis.MyProposalListApi.as_view(), name="my-proposals"),
    path("reports/", apis.ReportListApi.as_view(), name="report-list"),
    path("reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="report-detail"),
    path(
        "reports/<int:report_id>/download/",
        apis.ReportDownloadApi.as_view(),
        name="report-download",
    ),
    path("strategies/<slug:slug>/tallies/", apis.tally_view, name="strategy-tallies"),
    path("strategies/<slug:slug>/summary/", SummaryApi.as_view(), name="strategy-summary"),
    path(
        "strategies/<slug:slug>/duplicate-groups/",
        apis.DuplicateGroupListApi.as_view(),
        name="strategy-duplicate-groups",
    ),
    path(
        "strategies/<slug:slug>/versions/",
        version_apis.VersionListApi.as_view(),
        name="strategy-versions",
    ),
    path(
        "strategies/<slug:slug>/versions/<int:a>/compare/<int:b>/",
        version_apis.VersionCompareApi.as_view(),
        name="strategy-version-compare",
    ),
    path(
        "strategies/<slug:slug>/versions/<int:number>/links/",
        version_apis.VersionLinkApi.as_view(),
        name="strategy-version-links",
    ),
]
