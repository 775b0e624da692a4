"""The summary table's files built by a real Celery worker: gunicorn, a worker, Redis and
PostgreSQL as separate processes (the stack of test_tasks_e2e.py), spoken to over HTTP.
"""

import time
import urllib.error
import urllib.request

from django.utils import timezone

from proposals.models import Answer, SummaryFile
from proposals.summary.services import summary_mark_dirty
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory
from tests.proposals import test_tasks_e2e as e2e

# The same processes, requirements and database handling as the other end-to-end tests.
pytestmark = e2e.pytestmark
stack = e2e.stack

BOM = b"\xef\xbb\xbf"


def _fetch(stack: e2e.Stack, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(stack.base_url + path, headers={"Accept-Language": "ru"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _built(stack: e2e.Stack, path: str, timeout: float = 60) -> bytes:
    def ready() -> bytes | None:
        status, headers, body = _fetch(stack, path)
        assert status in (200, 202), (status, body)
        return body if status == 200 else None

    return e2e._wait(ready, timeout=timeout, what=f"{path} to be built")


def _world() -> tuple[str, list]:
    strategy = StrategyFactory(slug="e2e-summary", code_prefix="SUM")
    section = SectionFactory(strategy=strategy, code="1", position=0)
    proposals = [
        ProposalFactory(strategy=strategy, section=section, title=f"Освещение двора {n}")
        for n in range(3)
    ]
    Answer.objects.create(
        proposal=proposals[0],
        outcome="accepted",
        published=True,
        answered_at=timezone.now(),
    )
    return strategy.slug, proposals


def test_the_worker_builds_the_file_asked_for_while_it_was_down(stack):
    slug, proposals = _world()
    path = f"/api/v1/strategies/{slug}/summary/?format=csv"
    stack.start_redis()
    stack.start_web()

    status, headers, body = _fetch(stack, path)
    assert status == 202, body
    assert headers["Cache-Control"] == "no-store"
    time.sleep(1)
    assert _fetch(stack, path)[0] == 202
    assert SummaryFile.objects.get().status == "queued"

    # The request waited in Redis; a worker that starts now builds it.
    stack.start_worker()
    content = _built(stack, path)
    assert content.startswith(BOM + b'"code","title","section_code",')
    assert all(p.code.encode() in content for p in proposals)
    assert b"accepted" in content
    status, headers, again = _fetch(stack, path)
    assert (status, headers["Cache-Control"], again) == (200, "public, max-age=60", content)


def test_after_a_change_the_worker_builds_the_file_again(stack):
    slug, proposals = _world()
    path = f"/api/v1/strategies/{slug}/summary/?format=xlsx"
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    first = _built(stack, path)
    assert first.startswith(b"PK")
    built = SummaryFile.objects.get()
    assert built.built_version == built.source_version

    # What answer_save does when an answer is published.
    Answer.objects.create(
        proposal=proposals[1],
        outcome="not_accepted",
        text="Нет в плане на 2026 год",
        published=True,
        answered_at=timezone.now(),
    )
    summary_mark_dirty(strategy_id=built.strategy_id)
    assert _fetch(stack, path)[0] in (200, 202)  # 200 only if the worker was that quick
    _built(stack, path)
    rebuilt = SummaryFile.objects.get()
    assert rebuilt.built_version == rebuilt.source_version == built.source_version + 1
    assert rebuilt.attempt == built.attempt + 1
