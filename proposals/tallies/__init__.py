"""Tallies: the aggregated counts of one strategy, derived from rows, never bumped.

Services call `tally_mark_dirty` inside their transaction; after the commit a refresh
is scheduled, folded with others that arrive within CIVIC_TALLY_COALESCE_SECONDS.
`tally_rebuild` recomputes the whole snapshot with GROUP BY queries and stores it with
the version it started from, so a change that lands while it runs leaves the snapshot
dirty for the next pass. selectors.py reads snapshots as the API serves them; tasks.py
refreshes them in the worker, and its periodic sweep catches what a lost message missed.
"""
