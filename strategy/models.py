from django.db import models
from django.utils import timezone, translation

from civic.languages import LANGUAGE_CODES


def localized(obj: object, field: str, language: str | None = None) -> str:
    """The text of `field` in the active language, falling back to Russian, then any."""
    language = (language or translation.get_language() or "ru")[:2]
    for code in (language, *LANGUAGE_CODES):
        value = getattr(obj, f"{field}_{code}", "") if code in LANGUAGE_CODES else ""
        if value:
            return value
    return ""


class Theme(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    name_ru = models.CharField(max_length=100)
    name_kk = models.CharField(max_length=100, blank=True)
    name_en = models.CharField(max_length=100, blank=True)
    description_ru = models.TextField(blank=True)
    description_kk = models.TextField(blank=True)
    description_en = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")


class District(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    name_ru = models.CharField(max_length=100)
    name_kk = models.CharField(max_length=100, blank=True)
    name_en = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def name(self) -> str:
        return localized(self, "name")


class Strategy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        OPEN = "open", "open"
        CLOSED = "closed", "closed"
        ARCHIVED = "archived", "archived"

    slug = models.SlugField(max_length=80, unique=True)
    # Prefix of proposal codes, e.g. ALA2050 in ALA2050-000123.
    code_prefix = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateField(null=True, blank=True)
    closes_at = models.DateField(null=True, blank=True)
    title_ru = models.CharField(max_length=300, blank=True)
    title_kk = models.CharField(max_length=300, blank=True)
    title_en = models.CharField(max_length=300, blank=True)
    description_ru = models.TextField(blank=True)
    description_kk = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The city's commitments: answer every published proposal within this many days, and
    # answer first those with at least this many supporting reactions. Unset: no promise.
    answer_deadline_days = models.PositiveIntegerField(null=True, blank=True)
    support_threshold = models.PositiveIntegerField(null=True, blank=True)
    # Decidim's "publish answers immediately": the default of an answer's `publish`.
    publish_answers = models.BooleanField(default=True)

    class Meta:
        ordering = ["-opens_at", "slug"]
        verbose_name_plural = "strategies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "open", "closed", "archived"]),
                name="strategy_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gte=models.F("opens_at")),
                name="strategy_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def description(self) -> str:
        return localized(self, "description")

    def accepts_proposals(self, today: "timezone.datetime.date | None" = None) -> bool:
        today = today or timezone.localdate()
        if self.status != self.Status.OPEN:
            return False
        if self.opens_at and today < self.opens_at:
            return False
        return not (self.closes_at and today > self.closes_at)


class Section(models.Model):
    """A node of a strategy's tree: chapter, direction, goal. `code` is "1", "1.2", "1.2.3"."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    code = models.CharField(max_length=50)
    # Document order over the whole tree (pre-order), so one ORDER BY yields the tree.
    position = models.PositiveIntegerField(default=0)
    depth = models.PositiveSmallIntegerField(default=0)
    title_ru = models.CharField(max_length=500, blank=True)
    title_kk = models.CharField(max_length=500, blank=True)
    title_en = models.CharField(max_length=500, blank=True)
    body_ru = models.TextField(blank=True)
    body_kk = models.TextField(blank=True)
    body_en = models.TextField(blank=True)

    class Meta:
        ordering = ["strategy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], name="section_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy.slug} {self.code}"

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def body(self) -> str:
        return localized(self, "body")


class StrategyVersion(models.Model):
    """The text of a strategy document as one import left it, kept whole.

    Sections are matched by code from one version to the next; proposals stay attached to
    the living `Section` rows, and every earlier text stays readable here.
    """

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    imported_at = models.DateTimeField(default=timezone.now)
    title = models.JSONField(default=dict, blank=True)
    description = models.JSONField(default=dict, blank=True)
    # [{code, parent_code, depth, title: {lang: text}, body: {lang: text}}] in document order.
    sections = models.JSONField(default=list, blank=True)
    # Codes of the sections added, removed or changed since the previous version.
    changed_sections = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["strategy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "number"], name="version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id} v{self.number}"
