"""The NiceGUI main file the ``user`` and ``screen`` fixtures run for each test: the web runtime on the
platform the test's fixture started (see tests/ui/conftest.py)."""

from nicegui import ui

from helpline.ui.app import RUN_OPTIONS, build
from helpline.ui.context import platform

build(platform())
ui.run(storage_secret="helpline tests", **RUN_OPTIONS)
