"""helpline/cli."""
