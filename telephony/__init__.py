"""telephony."""
