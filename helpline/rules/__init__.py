"""helpline/rules."""
