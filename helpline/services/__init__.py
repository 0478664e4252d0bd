"""helpline/services."""
