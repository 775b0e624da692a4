from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from civic.languages import LANGUAGE_CODES

TITLE_MIN, TITLE_MAX = 5, 200
BODY_MIN, BODY_MAX = 20, 10_000


class Proposal(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        PUBLISHED = "published", "published"
        REJECTED = "rejected", "rejected"
        CHANGES_REQUESTED = "changes_requested", "changes_requested"
        WITHDRAWN = "withdrawn", "withdrawn"

    class Language(models.TextChoices):
        RU = "ru", "ru"
        KK = "kk", "kk"
        EN = "en", "en"

    code = models.CharField(max_length=40, unique=True, null=True, blank=True)
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.PROTECT, related_name="proposals"
    )
    section = models.ForeignKey(
        "strategy.Section",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField()
    # Case-folded title and body, which the substring search before the full-text index
    # (proposals/search) compared against. Nothing in the product reads it now; it is
    # still written so that bench/scale.py can run that earlier code beside today's on
    # the same rows, and can go with a migration once that comparison is done with.
    search_text = models.TextField(blank=True, editable=False)
    language = models.CharField(max_length=2, choices=Language.choices)
    district = models.ForeignKey(
        "strategy.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    themes = models.ManyToManyField("strategy.Theme", blank=True, related_name="proposals")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    # A rejection the public may see (a duplicate, off topic, not a proposal, or "other"
    # where the moderator chose so), kept on the row so visibility is one WHERE clause.
    rejection_public = models.BooleanField(default=False)
    # The latest moderation decision, kept so a list reads it with one join.
    latest_decision = models.ForeignKey(
        "ProposalEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # Where themes come from, kept apart: `themes` is what a moderator confirmed (or the
    # author chose, until a moderator decides); `author_themes` what the author chose;
    # `suggested_themes` what the suggester proposed ([{slug, score, words}], best first),
    # by the model version in `suggestion_version` ("" until a task has run).
    author_themes = models.JSONField(default=list, blank=True)
    suggested_themes = models.JSONField(default=list, blank=True)
    suggestion_version = models.CharField(max_length=40, blank=True)
    # Reaction counts kept on the row, set in the transaction that changes a reaction
    # (proposals.services.reaction_totals_recount) and rebuilt from the rows by
    # `rebuild_tallies`: a list page and `ordering=-reactions` read them, never COUNT.
    reactions_like = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reactions_indifferent = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reactions_funny = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reactions_sympathy = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reactions_outrage = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reactions_total = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("moderate_proposal", "Can decide on proposals"),
            ("view_all_proposals", "Can see proposals in every status"),
            ("view_proposal_history", "Can see the audit trail of proposals"),
            ("order_report", "Can order reports"),
            ("answer_proposal", "Can give the city's answer to proposals"),
        ]
        # Lists are pages of (strategy?, status?) ordered by -created_at, -id: each has
        # an index that yields the page in order, so LIMIT stops after one page.
        indexes = [
            models.Index(
                fields=["strategy", "status", "-created_at", "-id"],
                name="proposal_strategy_status_new",
            ),
            models.Index(fields=["status", "-created_at", "-id"], name="proposal_status_newest"),
            models.Index(fields=["-created_at", "-id"], name="proposal_newest"),
            # The same for `ordering=-reactions`.
            models.Index(
                fields=["strategy", "status", "-reactions_total", "-created_at", "-id"],
                name="proposal_strategy_status_top",
            ),
            models.Index(
                fields=["status", "-reactions_total", "-created_at", "-id"],
                name="proposal_status_top",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "published",
                        "rejected",
                        "changes_requested",
                        "withdrawn",
                    ]
                ),
                name="proposal_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(language__in=LANGUAGE_CODES), name="proposal_language_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    GreaterThanOrEqual(Length("title"), TITLE_MIN),
                    LessThanOrEqual(Length("title"), TITLE_MAX),
                ),
                name="proposal_title_length",
            ),
            models.CheckConstraint(
                condition=Q(
                    GreaterThanOrEqual(Length("body"), BODY_MIN),
                    LessThanOrEqual(Length("body"), BODY_MAX),
                ),
                name="proposal_body_length",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="proposal_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.code or f"proposal {self.pk}"


class ProposalEvent(models.Model):
    """One line of a proposal's audit trail: a submission, an edit or a decision."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "submit"
        EDIT = "edit", "edit"
        WITHDRAW = "withdraw", "withdraw"
        APPROVE = "approve", "approve"
        REJECT = "reject", "reject"
        REQUEST_CHANGES = "request_changes", "request_changes"
        ANSWER = "answer", "answer"

    DECISIONS = (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES)

    class Reason(models.TextChoices):
        SPAM = "spam", "spam"
        OFFENSIVE = "offensive", "offensive"
        OFF_TOPIC = "off_topic", "off_topic"
        DUPLICATE = "duplicate", "duplicate"
        PERSONAL_DATA = "personal_data", "personal_data"
        NOT_A_PROPOSAL = "not_a_proposal", "not_a_proposal"
        OTHER = "other", "other"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    note = models.TextField(blank=True)
    # What the event changed besides the status (themes before/after, edited fields,
    # an answer before/after).
    changes = models.JSONField(default=dict, blank=True)
    # On a rejection: whether the public sees it, and whether they see the note too.
    public = models.BooleanField(default=False)
    note_public = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)
    # When the author was emailed about this decision; decisions still unsent are
    # picked up again by the notification sweep.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["proposal", "at"], name="event_proposal_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}->{self.to_status}"


class Reaction(models.Model):
    class Kind(models.TextChoices):
        LIKE = "like", "Нравится"
        INDIFFERENT = "indifferent", "Мне всё равно"
        FUNNY = "funny", "Забавно"
        SYMPATHY = "sympathy", "Сочувствую"
        OUTRAGE = "outrage", "Возмутительно"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "proposal"], name="one_reaction_per_person"),
            models.CheckConstraint(
                condition=Q(kind__in=["like", "indifferent", "funny", "sympathy", "outrage"]),
                name="reaction_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["proposal", "kind"], name="reaction_proposal_kind")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.proposal_id}"


class Tally(models.Model):
    """The aggregated counts of one strategy, rebuilt from rows by `tally_rebuild`.

    Services bump `dirty_version` in the transaction that moves a count; a rebuild
    records the version it started from in `built_version`. The snapshot is current
    when the two are equal, which a lost message or a dead worker cannot fake.
    """

    strategy = models.OneToOneField(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="tally"
    )
    data = models.JSONField(default=dict, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    dirty_version = models.PositiveBigIntegerField(default=1)
    built_version = models.PositiveBigIntegerField(default=0)
    # How many rebuilds ran: shows whether bursts of changes really fold together.
    rebuild_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "tallies"

    def __str__(self) -> str:
        return f"tally of {self.strategy_id}"

    @property
    def is_dirty(self) -> bool:
        return self.dirty_version > self.built_version


class SuggesterModel(models.Model):
    """A theme classifier learned from moderators' confirmed themes, blended with the
    vocabulary (proposals/suggest/training.py).

    `weights` holds the classifier's arrays (NumPy's compressed format, no pickle);
    `learned` its themes, the distinct texts it learned per language and the themes'
    shares. The `active` model makes every suggestion, and its `version` is stored with
    each one.
    """

    version = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    trained_on = models.PositiveIntegerField(help_text="confirmed proposals it learned from")
    # The newest confirmation it learned from: what came after, it never saw.
    trained_until = models.DateTimeField(null=True, blank=True)
    learned = models.JSONField(default=dict, blank=True)
    weights = models.BinaryField(null=True, blank=True, editable=False)
    # How it was judged: top-1 on held-out confirmed proposals per language beside the
    # vocabulary, the model in use and the always-the-same-theme baseline, or on the
    # written evaluation texts where a language had too few; and the data sizes.
    accuracy = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="one_suggester_in_use"
            )
        ]

    def __str__(self) -> str:
        return self.version


class DuplicateIndex(models.Model):
    """The near-duplicate grouping of one strategy, kept up to date by `duplicates_refresh`.

    `params` names the shingling, MinHash and banding the fingerprints were made with: when
    the settings change, the next refresh rebuilds the whole strategy. The row is also the
    lock that keeps two refreshes of one strategy from merging groups at once.
    """

    strategy = models.OneToOneField(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="duplicate_index"
    )
    params = models.CharField(max_length=60, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    full_rebuilds = models.PositiveIntegerField(default=0)
    incremental_updates = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "duplicate indexes"

    def __str__(self) -> str:
        return f"duplicate index of {self.strategy_id}"


class Fingerprint(models.Model):
    """A proposal's MinHash signature and the near-duplicate group it belongs to.

    `group` is the smallest proposal id of the group (the proposal's own id when it has no
    near-duplicate). `computed_at` is the proposal's `updated_at` the signature was made
    from: a proposal updated since is refreshed, and an edit mid-refresh is not missed.
    """

    proposal = models.OneToOneField(
        Proposal, on_delete=models.CASCADE, primary_key=True, related_name="fingerprint"
    )
    strategy = models.ForeignKey("strategy.Strategy", on_delete=models.CASCADE, related_name="+")
    signature = models.BinaryField()
    text_hash = models.CharField(max_length=32)
    group = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["strategy", "group"], name="fingerprint_strategy_group"),
        ]

    def __str__(self) -> str:
        return f"fingerprint of {self.proposal_id}"


class FingerprintBand(models.Model):
    """One LSH band of a fingerprint: proposals sharing a key are near-duplicate candidates."""

    fingerprint = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="bands")
    strategy_id = models.BigIntegerField()
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["strategy_id", "key"], name="band_strategy_key")]

    def __str__(self) -> str:
        return f"band {self.key} of {self.fingerprint_id}"


class Report(models.Model):
    """A file of proposals built in the background for the analyst who ordered it."""

    class Format(models.TextChoices):
        CSV = "csv", "csv"
        XLSX = "xlsx", "xlsx"
        HTML = "html", "html"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="reports"
    )
    format = models.CharField(max_length=4, choices=Format.choices)
    # The proposal list's filters, as validated when the report was ordered.
    filters = models.JSONField(default=dict, blank=True)
    # The analyst's language: headings of the summary, section titles.
    language = models.CharField(max_length=2, default="ru")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="reports/", blank=True, max_length=200)
    error = models.TextField(blank=True)
    # Each build claims the report with the next attempt number; only the build holding
    # the current number may move its progress or finish it, so a redelivered message
    # or a build taken over by the sweep cannot finish twice or mix two files.
    attempt = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved with every chunk a build writes: a running report whose heartbeat stopped
    # lost its worker, and the sweep hands it to another long before the time limit.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the file was removed after the retention period.
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["ordered_by", "-created_at"], name="report_owner_newest"),
            models.Index(fields=["status", "created_at"], name="report_status_age"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="report_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx", "html"]), name="report_format_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_range"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.format})"


class Answer(models.Model):
    """The city's answer to a published proposal: an outcome and its justification.

    Saved by responders (or admins) through `answer_save`, which writes every version
    into the proposal's history in the same transaction. Only a `published` answer is
    public; `answered_at` is when it was first published, the date the public sees.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "accepted"
        ACCEPTED_IN_PART = "accepted_in_part", "accepted_in_part"
        ALREADY_PLANNED = "already_planned", "already_planned"
        NOT_ACCEPTED = "not_accepted", "not_accepted"
        OUT_OF_SCOPE = "out_of_scope", "out_of_scope"

    # Outcomes whose proposals may be linked to the sections of a revised strategy.
    CHANGES_TEXT = (Outcome.ACCEPTED, Outcome.ACCEPTED_IN_PART)

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="answer")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    text = models.TextField(blank=True)
    published = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Who saved it last: staff-only, never in a public response.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # When the emails about its publication were queued for every recipient; a published
    # answer still without it is picked up by the notification sweep.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["published", "answered_at"], name="answer_published_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "accepted",
                        "accepted_in_part",
                        "already_planned",
                        "not_accepted",
                        "out_of_scope",
                    ]
                ),
                name="answer_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome="accepted") | ~Q(text=""), name="answer_text_required"
            ),
            models.CheckConstraint(
                condition=Q(published=False) | Q(answered_at__isnull=False),
                name="answer_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"answer {self.outcome} to {self.proposal_id}"


class AnswerNotice(models.Model):
    """One email about a published answer to one person: the row is claimed before the
    email goes out, so nobody is told twice, and `sent_at` stays empty until it went."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_answer_notice_each"),
        ]

    def __str__(self) -> str:
        return f"answer notice of {self.proposal_id} to {self.user_id}"


class AnswerSectionLink(models.Model):
    """An answered proposal linked by a responder to a section it changed in a version."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="section_links")
    version = models.ForeignKey(
        "strategy.StrategyVersion", on_delete=models.CASCADE, related_name="proposal_links"
    )
    section_code = models.CharField(max_length=50)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "section_code", "proposal"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "version", "section_code"], name="one_link_per_section"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} -> v{self.version_id} {self.section_code}"


class SummaryFile(models.Model):
    """The summary table of one strategy as a file (CSV, XLSX or HTML), built in the
    background and public: it holds no personal data.

    Services that change what the table shows bump `source_version`; a build records
    the version it started from in `built_version`, so the file is current when the two
    are equal, and a change landing mid-build leaves it stale for the next request.
    """

    # The same formats and build states as an analyst's report.
    Format = Report.Format
    Status = Report.Status

    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, related_name="summary_files"
    )
    format = models.CharField(max_length=4, choices=Format.choices)
    language = models.CharField(max_length=2, default="ru")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="summaries/", blank=True, max_length=200)
    source_version = models.PositiveBigIntegerField(default=1)
    built_version = models.PositiveBigIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=0)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "format", "language"], name="one_summary_file_each"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="summary_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"summary of {self.strategy_id} ({self.format}, {self.language})"


COMMENT_BODY_MIN, COMMENT_BODY_MAX = 2, 5_000


class Comment(models.Model):
    """A resident's comment on a published proposal or on a section of a strategy open for
    proposals, or a reply to one (one level deep, on the same proposal or section).

    Plain text as written (after `clean_text`), never HTML. A hidden comment and a deleted
    one keep their row, so replies keep their place; proposals/comments/ holds the rules.
    """

    class HiddenBy(models.TextChoices):
        NOBODY = "", "nobody"
        FLAGS = "flags", "flags"  # flagged by enough residents, until a moderator decides
        MODERATOR = "moderator", "moderator"

    class HideReason(models.TextChoices):
        SPAM = "spam", "spam"
        OFFENSIVE = "offensive", "offensive"
        PERSONAL_DATA = "personal_data", "personal_data"
        OFF_TOPIC = "off_topic", "off_topic"
        OTHER = "other", "other"
        FLAGGED = "flagged", "flagged"  # hidden by residents' flags, awaiting a moderator

    # Exactly one of the two: what the discussion is about.
    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    section = models.ForeignKey(
        "strategy.Section",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    # Empty once its author deleted it.
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.CharField(
        max_length=10, choices=HiddenBy.choices, blank=True, default=HiddenBy.NOBODY
    )
    hidden_reason = models.CharField(max_length=20, choices=HideReason.choices, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["proposal", "created_at", "id"], name="comment_proposal_oldest"),
            models.Index(fields=["section", "created_at", "id"], name="comment_section_oldest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False, section__isnull=True)
                | Q(proposal__isnull=True, section__isnull=False),
                name="comment_one_target",
            ),
            models.CheckConstraint(
                condition=Q(hidden_by__in=["", "flags", "moderator"]),
                name="comment_hidden_by_valid",
            ),
            # Hidden exactly when there is a reason, and a deleted comment has no text.
            models.CheckConstraint(
                condition=Q(hidden_by="", hidden_reason="")
                | (~Q(hidden_by="") & ~Q(hidden_reason="")),
                name="comment_hidden_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(body=""),
                name="comment_deleted_has_no_text",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False)
                | Q(
                    GreaterThanOrEqual(Length("body"), COMMENT_BODY_MIN),
                    LessThanOrEqual(Length("body"), COMMENT_BODY_MAX),
                ),
                name="comment_body_length",
            ),
        ]

    def __str__(self) -> str:
        target = f"section {self.section_id}" if self.section_id else self.proposal_id
        return f"comment {self.pk} on {target}"

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_by)


class CommentFlag(models.Model):
    """A resident's report that a comment breaks the rules: one per person per comment.

    A moderator's decision resolves the flags made before it, so only flags since the last
    decision count towards hiding the comment again.
    """

    class Reason(models.TextChoices):
        SPAM = "spam", "spam"
        OFFENSIVE = "offensive", "offensive"
        PERSONAL_DATA = "personal_data", "personal_data"
        OFF_TOPIC = "off_topic", "off_topic"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_flags"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="one_flag_per_person"),
            models.CheckConstraint(
                condition=Q(reason__in=["spam", "offensive", "personal_data", "off_topic"]),
                name="comment_flag_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} flag on {self.comment_id}"


class CommentEvent(models.Model):
    """One line of a comment's audit trail: an edit, a deletion, a hide or a restore."""

    class Action(models.TextChoices):
        EDIT = "edit", "edit"
        DELETE = "delete", "delete"
        HIDE = "hide", "hide"
        AUTO_HIDE = "auto_hide", "auto_hide"  # by residents' flags
        RESTORE = "restore", "restore"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="events")
    # None for a hide by flags, which no one person decided.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=20, blank=True)
    # An edit's text before and after: {"body": {"from": ..., "to": ...}}.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["comment", "at"], name="comment_event_at")]

    def __str__(self) -> str:
        return f"{self.action} of comment {self.comment_id}"


class Follow(models.Model):
    """Someone follows a proposal, a section or a whole strategy: exactly one of the three.

    Authors, commenters and those who reacted follow a proposal automatically; a row with
    `active` off records that they stopped, so doing any of those again does not bring
    the follow back (proposals/following/services.py).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    section = models.ForeignKey(
        "strategy.Section", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(default=True)
    # Made by writing, commenting or reacting rather than by asking to follow.
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False, section__isnull=True, strategy__isnull=True)
                | Q(proposal__isnull=True, section__isnull=False, strategy__isnull=True)
                | Q(proposal__isnull=True, section__isnull=True, strategy__isnull=False),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "proposal"],
                condition=Q(proposal__isnull=False),
                name="one_follow_per_proposal",
            ),
            models.UniqueConstraint(
                fields=["user", "section"],
                condition=Q(section__isnull=False),
                name="one_follow_per_section",
            ),
            models.UniqueConstraint(
                fields=["user", "strategy"],
                condition=Q(strategy__isnull=False),
                name="one_follow_per_strategy",
            ),
        ]
        # Fan-out reads followers of one target; the unique indexes lead with the user.
        indexes = [
            models.Index(fields=["proposal", "user"], name="follow_by_proposal"),
            models.Index(fields=["section", "user"], name="follow_by_section"),
            models.Index(fields=["strategy", "user"], name="follow_by_strategy"),
        ]

    def __str__(self) -> str:
        target = self.proposal_id or self.section_id or self.strategy_id
        return f"{self.user_id} follows {target}"


class Notification(models.Model):
    """Something new about what a person follows, for the on-site list and the emails.

    `source` names the event ("comment:12", "answer:7", "status:40", "version:3"); one row
    per person per source, so a fan-out task that runs twice writes nobody twice.
    """

    class Kind(models.TextChoices):
        COMMENT = "comment", "comment"
        REPLY = "reply", "reply"
        ANSWER = "answer", "answer"
        STATUS = "status", "status"
        PUBLISHED = "published", "published"  # a new proposal in a followed section
        VERSION = "version", "version"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=40)
    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The section of a comment on a section (then `proposal` is empty).
    section = models.ForeignKey(
        "strategy.Section", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    strategy = models.ForeignKey(
        "strategy.Strategy", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The new status, for a status change.
    status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When an email carried it; set at once for what another email already tells (the
    # answer and decision emails), so no digest repeats it. An email at once is claimed
    # by setting it before it goes out (proposals/following/emails.py).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "source"], name="one_notification_per_event"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_list"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["user", "created_at"],
                condition=Q(emailed_at__isnull=True),
                name="notification_unemailed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class NotificationDigest(models.Model):
    """The daily email of one person for one day. Claimed (committed) before it is sent,
    so nobody gets two on one day; `sent_at` once it went. A digest claimed and never
    confirmed (a worker killed mid-send) is not sent again that day: its items stay
    unemailed and go with the next day's digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="one_digest_per_day"),
        ]

    def __str__(self) -> str:
        return f"digest of {self.user_id} on {self.day}"


class FanOut(models.Model):
    """An event whose notifications are still to be written, saved in the event's own
    transaction: the task that writes them deletes the row, and a sweep runs again what
    a lost message or a dead worker left (nothing accepted is lost)."""

    class Event(models.TextChoices):
        COMMENT = "comment", "comment"
        ANSWER = "answer", "answer"
        STATUS = "status", "status"
        VERSION = "version", "version"

    event = models.CharField(max_length=10, choices=Event.choices)
    # The comment, proposal (for an answer), proposal event or strategy version.
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "object_id"], name="one_fan_out_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event}:{self.object_id}"
