"""Versions of a strategy: the list, one version's whole text, and two compared, with the
proposals that changed each section (and, for responders, the forms that link them)."""

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from civic.accounts.rules import allows
from civic.errors import DomainError
from frontend.views.common import permission_required, refusal
from proposals.selectors import proposal_find_by_code
from proposals.versions import selectors
from proposals.versions.services import (
    section_code_clean,
    section_link_add,
    section_link_remove,
)
from strategy.models import Strategy, StrategyVersion
from strategy.selectors import strategy_get_public
from strategy.versions import (
    ADDED,
    CHANGED,
    DELETE,
    INSERT,
    REMOVED,
    UNCHANGED,
    description_diff,
    localized_text,
    reflow,
)


def _strategy_or_404(slug: str) -> Strategy:
    strategy = strategy_get_public(slug=slug)
    if strategy is None:
        raise Http404
    return strategy


def _version_or_404(strategy: Strategy, number: int) -> StrategyVersion:
    version = selectors.version_get(strategy=strategy, number=number)
    if version is None:
        raise Http404
    return version


def _number(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


@require_safe
def version_list_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Every version, newest first, and a form to compare any two (a GET to this page with
    `a` and `b`, sent on to the comparison)."""
    strategy = _strategy_or_404(slug)
    versions = list(selectors.version_list(strategy=strategy))
    numbers = {version.number for version in versions}
    error = ""
    if "a" in request.GET or "b" in request.GET:
        a, b = _number(request.GET.get("a")), _number(request.GET.get("b"))
        if a in numbers and b in numbers:
            return redirect("frontend:version-compare", slug=slug, a=min(a, b), b=max(a, b))
        error = _("Choose two versions from the list.")
    latest = versions[-1].number if versions else None
    return render(
        request,
        "frontend/versions/list.html",
        {
            "strategy": strategy,
            "versions": list(reversed(versions)),
            "error": error,
            "default_a": latest - 1 if latest and latest > 1 else latest,
            "default_b": latest,
        },
        status=400 if error else 200,
    )


@require_safe
def version_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The whole text of one version; the sections it changed are marked, with the
    proposals linked to them."""
    strategy = _strategy_or_404(slug)
    version = _version_or_404(strategy, number)
    responder = allows(request.user, "proposals.link_section")
    links = selectors.version_links(version=version, shown_only=not responder)
    changed = set(version.changed_sections)
    language = translation.get_language() or "ru"
    sections = [
        {
            "code": section["code"],
            "level": min(section.get("depth", 0) + 2, 4),
            "title": localized_text(section.get("title"), language),
            "body": reflow(localized_text(section.get("body"), language)),
            "changed": version.number > 1 and section["code"] in changed,
            "linked": links.get(section["code"], []),
        }
        for section in version.sections
    ]
    present = {section["code"] for section in sections}
    latest = selectors.version_list(strategy=strategy).order_by("-number").first()
    return render(
        request,
        "frontend/versions/detail.html",
        {
            "strategy": strategy,
            "version": version,
            "title": localized_text(version.title, language),
            "description": reflow(localized_text(version.description, language)),
            "sections": sections,
            "removed": [code for code in version.changed_sections if code not in present],
            "latest_number": latest.number if latest else version.number,
            "responder": responder,
        },
    )


def _runs(diff: list[dict[str, str]]) -> bool:
    return any(run["op"] in (INSERT, DELETE) for run in diff)


@require_safe
def version_compare_page(request: HttpRequest, slug: str, a: int, b: int) -> HttpResponse:
    strategy = _strategy_or_404(slug)
    pair = selectors.version_pair(strategy=strategy, a=a, b=b)
    if pair is None:
        raise Http404
    old, new = pair
    items = selectors.version_changes(
        strategy=strategy, old=old, new=new, language=translation.get_language() or "ru"
    )
    counts = dict.fromkeys((CHANGED, ADDED, REMOVED, UNCHANGED), 0)
    for item in items:
        counts[item["change"]] += 1
        item["level"] = min(item["depth"] + 2, 4)
        # A change in another language only: say so rather than show nothing marked.
        item["elsewhere"] = item["change"] == CHANGED and not _runs(item["diff"])
        item["body_text"] = "".join(run["text"] for run in item["body_diff"])
    introduction = description_diff(old, new, translation.get_language() or "ru")
    return render(
        request,
        "frontend/versions/compare.html",
        {
            "strategy": strategy,
            "old": old,
            "new": new,
            "introduction": introduction if _runs(introduction) else [],
            "items": items,
            "counts": counts,
            "touched": [item for item in items if item["change"] != UNCHANGED],
            "responder": allows(request.user, "proposals.link_section"),
        },
    )


@require_POST
@permission_required("proposals.link_section")
def version_link_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """A responder links a proposal (by its code) to a section of this version, or unlinks
    it; then back to the section on the version's page."""
    strategy = _strategy_or_404(slug)
    version = _version_or_404(strategy, number)
    code = request.POST.get("section_code", "")[:50]
    reference = request.POST.get("proposal", "").strip()[:40]
    target = reverse("frontend:version", kwargs={"slug": slug, "number": number})
    # Back to the section, when the form named one the way section codes look.
    clean = section_code_clean(code)
    anchor = f"#section-{clean}" if re.fullmatch(r"[0-9]+(\.[0-9]+)*", clean) else ""
    proposal = None
    if reference and all(ord(char) >= 32 for char in reference):
        proposal = proposal_find_by_code(user=request.user, code=reference)
    if proposal is None or proposal.strategy_id != strategy.pk:
        messages.error(
            request,
            _("No proposal %(code)s in this strategy.") % {"code": reference or "—"},
        )
        return redirect(target + anchor)
    arguments: dict[str, Any] = {
        "proposal": proposal,
        "version": version,
        "section_code": code,
        "responder": request.user,
    }
    try:
        if request.POST.get("action") == "remove":
            section_link_remove(**arguments)
            messages.success(
                request,
                _("%(proposal)s is no longer linked to section %(code)s.")
                % {"proposal": proposal.code, "code": code},
            )
        else:
            section_link_add(**arguments)
            messages.success(
                request,
                _("%(proposal)s is linked to section %(code)s.")
                % {"proposal": proposal.code, "code": code},
            )
    except DomainError as exc:
        messages.error(request, refusal(exc))
    return redirect(target + anchor)
