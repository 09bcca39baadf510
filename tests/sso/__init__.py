"""Single sign-on against real identity providers, run as processes on this machine."""
