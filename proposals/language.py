"""Which of ru, kk, en a proposal is written in, from its letters alone.

Kazakh Cyrillic has nine letters Russian lacks; a text with any of them in
meaningful number is Kazakh. Otherwise Cyrillic means Russian, Latin English.
"""

import re

_KAZAKH_ONLY = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")


def detect_language(text: str) -> str:
    kazakh = len(_KAZAKH_ONLY.findall(text))
    cyrillic = len(_CYRILLIC.findall(text)) + kazakh
    latin = len(_LATIN.findall(text))
    if cyrillic >= latin and cyrillic:
        # A Russian text may quote one Kazakh place name ("Көк-Жайлау"); Kazakh
        # prose has them in about one letter in ten.
        return "kk" if kazakh >= max(2, cyrillic // 40) else "ru"
    return "en" if latin else "ru"
