from django.contrib.auth import views as auth_views
from django.urls import path

from frontend.views import (
    accounts,
    analysis,
    answers,
    comment_moderation,
    discussion,
    moderation,
    notifications,
    profile,
    public,
    residents,
    summary,
)
from frontend.views import versions as version_pages

app_name = "frontend"

urlpatterns = [
    path("", public.home, name="home"),
    path("strategies/<slug:slug>/", public.strategy_detail, name="strategy"),
    path("strategies/<slug:slug>/tallies/", public.tallies, name="tallies"),
    path("strategies/<slug:slug>/versions/", version_pages.version_list_page, name="versions"),
    path(
        "strategies/<slug:slug>/versions/<int:number>/",
        version_pages.version_page,
        name="version",
    ),
    path(
        "strategies/<slug:slug>/versions/<int:a>/compare/<int:b>/",
        version_pages.version_compare_page,
        name="version-compare",
    ),
    path(
        "strategies/<slug:slug>/versions/<int:number>/links/",
        version_pages.version_link_page,
        name="version-links",
    ),
    path(
        "strategies/<slug:slug>/sections/<str:code>/discussion/",
        discussion.section_discussion_page,
        name="section-discussion",
    ),
    path(
        "strategies/<slug:slug>/sections/<str:code>/comments/",
        discussion.section_comment_new_page,
        name="section-comment-new",
    ),
    path("strategies/<slug:slug>/summary/", summary.summary_table, name="summary"),
    path(
        "strategies/<slug:slug>/summary/download/<str:format>/",
        summary.summary_download,
        name="summary-download",
    ),
    path("proposals/", public.proposal_list_page, name="proposals"),
    path("proposals/new/", residents.proposal_submit_page, name="proposal-new"),
    path("proposals/<int:proposal_id>/", public.proposal_detail, name="proposal"),
    path("proposals/<int:proposal_id>/edit/", residents.proposal_edit_page, name="proposal-edit"),
    path(
        "proposals/<int:proposal_id>/withdraw/",
        residents.proposal_withdraw_page,
        name="proposal-withdraw",
    ),
    path("proposals/<int:proposal_id>/reaction/", residents.reaction_page, name="reaction"),
    path("proposals/<int:proposal_id>/comments/", discussion.comment_new_page, name="comment-new"),
    path("comments/<int:comment_id>/reply/", discussion.comment_reply_page, name="comment-reply"),
    path("comments/<int:comment_id>/edit/", discussion.comment_edit_page, name="comment-edit"),
    path(
        "comments/<int:comment_id>/delete/", discussion.comment_delete_page, name="comment-delete"
    ),
    path("comments/<int:comment_id>/flag/", discussion.comment_flag_page, name="comment-flag"),
    path("me/proposals/", residents.my_proposals, name="my-proposals"),
    path("me/notifications/", notifications.notification_list, name="notifications"),
    path(
        "me/notifications/settings/",
        notifications.notification_settings,
        name="notification-settings",
    ),
    path(
        "me/notifications/read/",
        notifications.notifications_read_all,
        name="notifications-read-all",
    ),
    path(
        "me/notifications/<int:notification_id>/open/",
        notifications.notification_open,
        name="notification-open",
    ),
    path("follow/", notifications.follow, name="follow"),
    path(
        "unsubscribe/notifications/<str:token>/",
        notifications.unsubscribe_notifications,
        name="unsubscribe-notifications",
    ),
    path("unsubscribe/<str:token>/", notifications.unsubscribe, name="unsubscribe"),
    path("me/profile/", profile.profile, name="profile"),
    path("me/email/<str:token>/", profile.email_confirm, name="email-confirm"),
    path("me/export/", profile.export, name="export"),
    path("me/delete/", profile.account_delete, name="account-delete"),
    path("me/consent/", profile.consent, name="consent"),
    path("terms/", profile.terms, name="terms"),
    path("privacy/", profile.terms, name="privacy"),
    path("signup/", accounts.signup, name="signup"),
    path("signup/done/", accounts.signup_done, name="signup-done"),
    path("verify-email/resend/", accounts.resend_verification, name="verify-email-resend"),
    path("verify-email/<str:token>/", accounts.verify_email, name="verify-email"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        accounts.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("moderation/", moderation.queue, name="moderation-queue"),
    path("moderation/bulk/", moderation.bulk, name="moderation-bulk"),
    path("moderation/history/", moderation.history, name="moderation-history"),
    path("moderation/comments/", comment_moderation.comment_queue, name="comment-moderation"),
    path(
        "moderation/comments/<int:comment_id>/",
        comment_moderation.comment_review,
        name="comment-review",
    ),
    path("moderation/<int:proposal_id>/", moderation.decide, name="moderation-decide"),
    path("answers/", answers.queue, name="answers"),
    path("answers/<int:proposal_id>/", answers.answer_page, name="answer"),
    path("analysis/", analysis.workspace, name="analysis"),
    path("analysis/duplicates/", analysis.duplicate_groups_page, name="duplicate-groups"),
    path("analysis/reports/", analysis.reports, name="reports"),
    path("analysis/reports/order/", analysis.report_order_page, name="report-order"),
    path(
        "analysis/reports/<int:report_id>/download/",
        analysis.report_download_page,
        name="report-download",
    ),
]
