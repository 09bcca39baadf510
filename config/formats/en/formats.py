"""English: "Oct 26, 2026", and "Oct 26, 2026, 2:30 p.m." with times as Django writes them ("8 a.m.",
"noon"). The short forms are the same: "10/26/2026" reads as the 10th of October to much of the world,
and a page that mixed the two styles was harder to scan."""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, P"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
