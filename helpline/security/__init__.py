"""helpline/security."""
