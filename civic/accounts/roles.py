"""Roles and the named permissions each one grants: the one place that maps them.

Every account is a resident; the other roles are Django groups holding these
permissions, so `user.has_perm(...)` answers every access question.
"""

RESIDENT, MODERATOR, ANALYST, ADMIN = "resident", "moderator", "analyst", "admin"
# Officials of the akimat who give the city's answer to published proposals.
RESPONDER = "responder"
ROLES = (RESIDENT, MODERATOR, ANALYST, RESPONDER, ADMIN)
STAFF_ROLES = (MODERATOR, ANALYST, RESPONDER, ADMIN)

MODERATE = "proposals.moderate_proposal"
VIEW_ALL = "proposals.view_all_proposals"
VIEW_HISTORY = "proposals.view_proposal_history"
ORDER_REPORT = "proposals.order_report"
ANSWER = "proposals.answer_proposal"
# Reports are private to the analyst who ordered them; admins see and download all.
VIEW_ALL_REPORTS = "proposals.view_report"

# What administrators need in the Django admin: documents, reference data, roles.
ADMIN_SITE = (
    "strategy.view_strategy",
    "strategy.change_strategy",
    "strategy.view_section",
    "strategy.view_theme",
    "strategy.add_theme",
    "strategy.change_theme",
    "strategy.view_district",
    "strategy.add_district",
    "strategy.change_district",
    "proposals.view_proposal",
    "proposals.change_proposal",
    "proposals.view_proposalevent",
    "proposals.view_tally",
    "proposals.change_tally",
    "accounts.view_user",
    "accounts.change_user",
    "auth.view_group",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    MODERATOR: (MODERATE, VIEW_ALL, VIEW_HISTORY),
    ANALYST: (VIEW_ALL, VIEW_HISTORY, ORDER_REPORT),
    # Responders answer published proposals and read their history; they do not
    # moderate, and unpublished proposals stay as hidden from them as from the public.
    RESPONDER: (ANSWER, VIEW_HISTORY),
    ADMIN: (
        MODERATE,
        VIEW_ALL,
        VIEW_HISTORY,
        ORDER_REPORT,
        VIEW_ALL_REPORTS,
        ANSWER,
        *ADMIN_SITE,
    ),
}
