"""compliance pages."""
