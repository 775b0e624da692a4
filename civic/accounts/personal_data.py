"""What each app keeps about a person, and how it is exported and erased.

Accounts is the lowest app: it cannot import the apps that store proposals, reactions or
anything else a person wrote. Each of those registers, in its AppConfig.ready(), a pair
of functions here; "download my data" and "delete my account" call every pair, so a new
app that keeps personal data adds itself without accounts knowing it exists.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civic.accounts.models import User


@dataclass(frozen=True)
class PersonalData:
    name: str
    # The person's data as JSON values, by the top-level key of the export file.
    export: Callable[["User"], dict[str, Any]]
    # Called inside the deletion's transaction: remove what must go, keep what stays
    # (and keep derived counts equal to the rows).
    erase: Callable[["User"], None]


_REGISTRY: dict[str, PersonalData] = {}


def register(
    name: str,
    *,
    export: Callable[["User"], dict[str, Any]],
    erase: Callable[["User"], None],
) -> None:
    """Register (or replace: ready() may run more than once in tests) an app's handlers."""
    _REGISTRY[name] = PersonalData(name=name, export=export, erase=erase)


def registered() -> list[str]:
    return sorted(_REGISTRY)


def export_all(user: "User") -> dict[str, Any]:
    """Every app's part of the person's data, merged by top-level key."""
    data: dict[str, Any] = {}
    for name in registered():
        part = _REGISTRY[name].export(user)
        clash = set(part) & set(data)
        if clash:
            raise ValueError(f"{name} exports keys another app already uses: {sorted(clash)}")
        data.update(part)
    return data


def erase_all(user: "User") -> None:
    for name in registered():
        _REGISTRY[name].erase(user)
