"""sites pages."""
