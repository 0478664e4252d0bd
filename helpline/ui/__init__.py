"""helpline/ui."""
