from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from civic.errors import InvalidInput
from strategy.importers import StrategyImportError, parse_strategy_texts
from strategy.models import District, Section, Strategy, Theme
from strategy.services import (
    reference_item_save,
    strategy_import,
    strategy_schedule,
    strategy_set_answer_rules,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> list:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ImportForm(forms.Form):
    files = MultipleFileField(
        help_text="Markdown, one file per language (name.ru.md, name.kk.md, name.en.md), "
        "or one JSON file."
    )


# What administrators set by hand: the consultation's dates and the city's answer rules.
EDITABLE = [
    "status",
    "opens_at",
    "closes_at",
    "answer_deadline_days",
    "support_threshold",
    "publish_answers",
]


class StrategyForm(forms.ModelForm):
    class Meta:
        model = Strategy
        fields = EDITABLE


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["code", "title_ru", "title_kk", "title_en"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    """Documents come from the importer; here only the consultation's status and dates change."""

    form = StrategyForm
    list_display = ["slug", "title_ru", "status", "opens_at", "closes_at"]
    list_filter = ["status"]
    readonly_fields = ["slug", "code_prefix", "title_ru", "title_kk", "title_en"]
    fields = [*readonly_fields, *EDITABLE]
    inlines = [SectionInline]
    change_list_template = "admin/strategy/strategy/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # strategies are created by importing a document

    def save_model(
        self, request: HttpRequest, obj: Strategy, form: forms.Form, change: bool
    ) -> None:
        try:
            strategy_schedule(
                strategy=obj, status=obj.status, opens_at=obj.opens_at, closes_at=obj.closes_at
            )
            strategy_set_answer_rules(
                strategy=obj,
                answer_deadline_days=obj.answer_deadline_days,
                support_threshold=obj.support_threshold,
                publish_answers=obj.publish_answers,
            )
        except InvalidInput as exc:
            messages.error(request, exc.message)

    def get_urls(self) -> list:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="strategy_strategy_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("strategy.change_strategy"):
            messages.error(request, "You may not import strategy documents.")
            return HttpResponseRedirect(reverse("admin:strategy_strategy_changelist"))
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                sources = [(f.name, f.read().decode("utf-8")) for f in form.cleaned_data["files"]]
                result = strategy_import(document=parse_strategy_texts(sources))
            except UnicodeDecodeError:
                messages.error(request, "Files must be UTF-8 text.")
            except StrategyImportError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    f"{result.strategy.slug}: {'created' if result.created else 'updated'}; "
                    f"sections {result.sections_created} created, "
                    f"{result.sections_updated} updated.",
                )
                return HttpResponseRedirect(reverse("admin:strategy_strategy_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": "Import a strategy document",
        }
        return TemplateResponse(request, "admin/strategy/strategy/import.html", context)


class ReferenceAdmin(admin.ModelAdmin):
    """Themes and districts: saved through the service that redoes the tallies."""

    list_display = ["slug", "name_ru", "name_kk", "name_en", "position"]
    ordering = ["position"]

    def save_model(
        self, request: HttpRequest, obj: Theme | District, form: forms.Form, change: bool
    ) -> None:
        reference_item_save(item=obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # proposals and tallies refer to them by slug


admin.site.register(Theme, ReferenceAdmin)
admin.site.register(District, ReferenceAdmin)
