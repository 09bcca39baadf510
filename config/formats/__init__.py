"""How dates and times read, per language (FORMAT_MODULE_PATH): one style for a date and one for a date
and time, on every page, mail, PDF and export a person reads. Machine formats (ISO 8601 in a <time>'s
datetime, an input's value, CSV cells) are not these."""
