"""Outbound calling: campaign pacing (how many numbers to dial), see docs/outbound.md."""
