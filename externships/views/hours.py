"""hours pages."""
