"""What the strategy app tells the apps above it, which it may not import.

Sent inside the writer's transaction; receivers write in it too.
"""

from django.dispatch import Signal

# A strategy's document, status or commitments, or the themes and districts every strategy
# lists, changed what its tallies show. Sent with `strategy_id`.
strategy_counts_changed = Signal()

# An import recorded a new version of a strategy's text (not its first). Sent with
# `version_id`.
strategy_version_recorded = Signal()
