"""evaluations pages."""
