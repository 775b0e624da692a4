"""Theme suggestion: which of the twelve themes a proposal is about, and the words that say so.

vocabulary.py holds the starting vocabulary of each theme in Russian, Kazakh and English;
stemming.py reduces inflected words to stems (Snowball for Russian and English, a suffix
stripper for Kazakh, which Snowball lacks); suggester.py scores a text against the stems.
"""
