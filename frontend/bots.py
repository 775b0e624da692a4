"""Telling a script from a person on the sign-up and submit forms, without asking either.

Two checks a person never notices:
- a honeypot: a text field hidden from people (visually hidden, out of the tab order,
  hidden from screen readers, labelled "leave this empty" for anyone who sees it with
  styles off) that form-filling scripts fill;
- a minimum fill time: the page carries a signed, per-form salted time stamp in a hidden
  field; a post sooner than CIVIC_FORM_MIN_SECONDS after it, or with no valid stamp (a
  script posting without loading the page, or a forged one), is too fast.

A caught script is refused quietly (the view answers as it answers a person), so it
learns nothing to adapt to. CIVIC_FORM_MIN_SECONDS = 0 turns the time check off (the
honeypot stays); the test suite does that, the pages' own tests use the default.
"""

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

# An innocuous name that scripts fill and autofill leaves alone (autocomplete="off").
HONEYPOT = "website"
STAMP = "started"
_SALT = "frontend.bots."


def stamp_make(*, form: str, at: float | None = None) -> str:
    """A stamp saying the form `form` was shown at `at` (now by default)."""
    return signing.dumps(round(time.time() if at is None else at, 3), salt=_SALT + form)


def stamp_age(value: Any, *, form: str) -> float | None:
    """Seconds since the stamp was made, or None for a missing, forged or foreign one."""
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        at = signing.loads(value, salt=_SALT + form)
    except signing.BadSignature:
        return None
    if not isinstance(at, int | float) or isinstance(at, bool):
        return None
    return time.time() - at


class HumanCheckForm(forms.Form):
    """The two fields of the checks; a form sets `human_check` to its name (the salt)."""

    human_check = ""

    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._age = stamp_age(self.data.get(STAMP), form=self.human_check)
        if not self.is_bound:
            self.initial[STAMP] = stamp_make(form=self.human_check)
        elif self._age is None:
            # A form that comes back (errors, similar proposals) keeps the time it was
            # first shown; one that came without a valid stamp gets one now, so the
            # person correcting it is not held too fast forever. This post is judged
            # by what it brought (self._age), not by the new stamp.
            self.data = self.data.copy()
            self.data[STAMP] = stamp_make(form=self.human_check)

    @property
    def person_fields(self) -> list[forms.BoundField]:
        """The fields to show people: all but the checks' own two."""
        return [field for field in self if field.name not in (HONEYPOT, STAMP)]

    def looks_automated(self) -> bool:
        """Whether a bound form was filled by a script: the honeypot has something in
        it, or the post came sooner than the minimum after the page (or with no stamp)."""
        if self.data.get(HONEYPOT):
            return True
        minimum = float(settings.CIVIC_FORM_MIN_SECONDS)
        if minimum <= 0:
            return False
        return self._age is None or self._age < minimum
