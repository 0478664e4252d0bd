#!/usr/bin/env python3
"""Helpline's single entry point: ``python run.py [serve|check|rules|export|...] --help``."""

import sys

from helpline.cli import main

if __name__ in {"__main__", "__mp_main__"}:
    sys.exit(main())
