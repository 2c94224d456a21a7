"""Command-line front end: `seccomp-jail run|log|rules|learn`."""
