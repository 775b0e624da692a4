"""The number of comments awaiting a moderator, for the link to their queue.

A tag rather than a context variable: only the page that shows the link pays its query,
and that page's own view (frontend/views/moderation.py) needs no change to show it.
"""

from django import template

from proposals.comments.queue import flagged_comments_count

register = template.Library()


@register.simple_tag
def comments_to_review() -> int:
    return flagged_comments_count()
