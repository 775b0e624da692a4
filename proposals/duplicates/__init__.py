"""Near-duplicates: proposals whose texts are nearly the same, found and grouped.

fingerprint.py turns a text into shingles, a MinHash signature and LSH band keys (pure, no
database); services.py keeps each strategy's fingerprints and groups up to date, one
proposal at a time or the whole strategy at once; selectors.py answers "what is this like?"
for authors, moderators and analysts.
"""
