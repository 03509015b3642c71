"""The days the suite runs on (``tests/conftest.py``'s autouse ``day`` fixture and the ``any_day`` marker)."""

import datetime

# The moment every test starts at, whatever day the suite is run on: the clock (``points.clock``) is set there for
# each test and ticks on from it, in every thread. A test marked ``any_day`` runs at each of these moments (Asia/
# Shanghai): the middle of a month (everybody's default), the first minutes of a month (still the day before in
# UTC) and its last, New Year's Day and Eve, a leap day, and the third of a month, when the previous month's
# notice (published on the 1st or 2nd) is still open for objections: its period spans the two months.
DAYS = {
    "mid-month": datetime.datetime(2026, 6, 17, 10, 0),
    "first-of-month": datetime.datetime(2026, 7, 1, 0, 10),
    "last-of-month": datetime.datetime(2026, 9, 30, 23, 50),
    "new-year": datetime.datetime(2027, 1, 1, 0, 10),
    "new-years-eve": datetime.datetime(2026, 12, 31, 23, 50),
    "leap-day": datetime.datetime(2028, 2, 29, 12, 0),
    "notice-period": datetime.datetime(2026, 6, 3, 11, 0),
}
DEFAULT_DAY = "mid-month"
