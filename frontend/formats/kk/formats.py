# Django ships no Kazakh formats, so pages fell back to the American order and a 12-hour
# clock. Kazakh writes the year first: 2026 ж. 27 қараша, 17:05.
DATE_FORMAT = "Y \\ж. j E"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y \\ж. j E, H:i"
YEAR_MONTH_FORMAT = "Y \\ж. F"
MONTH_DAY_FORMAT = "j E"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"  # a non-breaking space, as in Russian
NUMBER_GROUPING = 3
