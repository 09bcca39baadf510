"""Externship use cases. Views call these; they decide what happens and keep the rules."""
