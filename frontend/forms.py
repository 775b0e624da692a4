"""Forms of the pages. They shape the input; the services decide what is valid."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontend import labels
from frontend.bots import HumanCheckForm
from proposals.models import (
    BODY_MAX,
    BODY_MIN,
    TITLE_MAX,
    TITLE_MIN,
    Proposal,
    ProposalEvent,
    Reaction,
)
from strategy.models import District, Theme
from strategy.selectors import section_rows

NBSP = "\u00a0"


def district_choices(districts: list[District]) -> list[tuple[str, str]]:
    return [("", _("Not specified"))] + [(d.slug, d.name) for d in districts]


def theme_choices(themes: list[Theme]) -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in themes]


def section_choices(tree: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The tree flattened in document order, each title after its code."""
    # Non-breaking spaces indent sub-sections inside a <select>, which has no markup.
    return [("", _("The whole document"))] + [
        (str(row["id"]), f"{NBSP * 3 * row['depth']}{row['code']}. {row['title']}")
        for row in section_rows(tree)
    ]


class SignupForm(HumanCheckForm):
    human_check = "signup"
    display_name = forms.CharField(
        label=_("Your name as others will see it"), max_length=80, strip=True
    )
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("We send a link to confirm it. It is never shown to anyone."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters, not only digits, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    district = forms.ChoiceField(label=_("Your district"), required=False)
    # Not required here: the service refuses an account without consent, with its message.
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of use and the privacy notice"), required=False
    )

    def __init__(self, *args: Any, districts: list[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = district_choices(districts)
        # Built per request: the link follows the page's language.
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}">{}</a>',
            reverse("frontend:terms"),
            gettext("Read the terms of use and the privacy notice"),
        )


class LoginForm(AuthenticationForm):
    """Django's sign-in form, asking for the email the account was opened with."""

    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("That email and password do not match an account."),
        "inactive": _("This account is closed."),
    }

    def clean_username(self) -> str:
        # Accounts are stored under the lower-cased address; people type it any way.
        return self.cleaned_data["username"].strip().lower()


class ProposalForm(forms.Form):
    section = forms.ChoiceField(label=_("Section of the strategy"), required=False)
    title = forms.CharField(
        label=_("Title"),
        strip=False,
        widget=forms.TextInput(
            attrs={"maxlength": TITLE_MAX, "data-counter": "", "data-min": TITLE_MIN}
        ),
    )
    body = forms.CharField(
        label=_("Your proposal"),
        strip=False,
        widget=forms.Textarea(
            attrs={"maxlength": BODY_MAX, "rows": 10, "data-counter": "", "data-min": BODY_MIN}
        ),
    )
    district = forms.ChoiceField(label=_("District"), required=False)
    themes = forms.MultipleChoiceField(
        label=_("Themes"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        tree: list[dict[str, Any]],
        districts: list[District],
        themes: list[Theme],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Formatted here, in the visitor's language, not once at import.
        limits = gettext("From %(min)d to %(max)d characters.")
        self.fields["title"].help_text = limits % {"min": TITLE_MIN, "max": TITLE_MAX}
        self.fields["body"].help_text = limits % {"min": BODY_MIN, "max": BODY_MAX}
        self.fields["section"].choices = section_choices(tree)
        self.fields["district"].choices = district_choices(districts)
        self.fields["themes"].choices = theme_choices(themes)


class ProposalSubmitForm(HumanCheckForm, ProposalForm):
    """A new proposal, with the checks that keep scripts out (frontend/bots.py)."""

    human_check = "submit"


class _DecisionFields(forms.Form):
    """What every moderation decision asks: the decision, a reason, a note."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (ProposalEvent.Action.APPROVE, _("Approve and publish")),
            (ProposalEvent.Action.REQUEST_CHANGES, _("Ask the author for changes")),
            (ProposalEvent.Action.REJECT, _("Reject")),
        ],
    )
    reason = forms.ChoiceField(
        label=_("Reason for a rejection"),
        required=False,
        choices=[("", "—"), *labels.REASON.items()],
    )
    note = forms.CharField(
        label=_("Note to the author"),
        required=False,
        max_length=2000,
        help_text=_("Required when you ask for changes."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(_DecisionFields):
    """A decision on one proposal, which may also set its themes or name its original."""

    themes = forms.MultipleChoiceField(
        label=_("Themes"), required=False, widget=forms.CheckboxSelectMultiple
    )
    duplicate_of = forms.CharField(
        label=_("Duplicate of (code, e.g. ALA2050-000123)"), required=False, max_length=40
    )
    # The status the moderator saw: a decision taken meanwhile by someone else is a
    # conflict, not something to overwrite.
    expected_status = forms.ChoiceField(
        widget=forms.HiddenInput, required=False, choices=[("", ""), *Proposal.Status.choices]
    )
    public = forms.BooleanField(
        label=_("Show this rejection to the public (for the reason “Other”)"),
        required=False,
        help_text=_(
            "A duplicate, off topic or not a proposal is always shown with its reason; "
            "spam, offensive text and personal data never are."
        ),
    )
    note_public = forms.BooleanField(label=_("Show my note to the public too"), required=False)
    field_order = ["decision", "themes", "reason", "duplicate_of", "note", "public", "note_public"]

    def __init__(
        self, *args: Any, themes: list[Theme], decisions: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = theme_choices(themes)
        field = self.fields["decision"]
        field.choices = [(code, label) for code, label in field.choices if code in decisions]


class BulkDecisionForm(_DecisionFields):
    """One decision for every ticked proposal of the queue; themes stay as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        decision = self.fields["decision"]
        decision.label = _("Decision for the selected proposals")
        decision.widget = forms.Select(choices=decision.choices)
        self.fields["note"].label = _("Note to the authors")
        # A duplicate names its original, which differs for every proposal.
        reason = self.fields["reason"]
        reason.choices = [c for c in reason.choices if c[0] != ProposalEvent.Reason.DUPLICATE]


class ReactionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind, kind) for kind in Reaction.Kind.values], required=False
    )


class AnswerForm(forms.Form):
    """The city's answer to one proposal (or to a whole group of near-duplicates)."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), widget=forms.RadioSelect, choices=list(labels.OUTCOME.items())
    )
    text = forms.CharField(
        label=_("Justification"),
        required=False,
        max_length=10_000,
        help_text=_("Required for every outcome but “Accepted”. Residents read it as written."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    publish = forms.BooleanField(label=_("Publish now"), required=False)
    # The outcome the responder saw ("" for none): a change someone made meanwhile is a
    # conflict, not something to overwrite.
    expected_outcome = forms.CharField(widget=forms.HiddenInput, required=False)
    group = forms.MultipleChoiceField(
        label=_("Give the same answer to these nearly identical proposals"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, group: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = group


# --- the account's own pages (frontend/views/profile.py) ---------------------------------------


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name as others will see it"), max_length=80, strip=True
    )
    district = forms.ChoiceField(label=_("Your district"), required=False)
    language = forms.ChoiceField(
        label=_("Language of the site and of our emails"),
        choices=[("ru", "Русский"), ("kk", "Қазақша"), ("en", "English")],
    )

    def __init__(self, *args: Any, districts: list[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = district_choices(districts)


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label=_("New email address"),
        help_text=_("We send a link to it; your address changes when the link is opened."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ConsentForm(forms.Form):
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of use and the privacy notice"), required=False
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
