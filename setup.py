"""Ship the checkout's data folders inside the wheel (setuptools reads everything else from pyproject.toml).

``metadata/``, ``locale/`` and the routing what-if scenario live at the top of the checkout, where
administrators and translators find them; a wheel carries them as ``helpline/_shipped/<folder>``, which
``helpline.config.shipped()`` finds when the checkout's folders are not there (an installed package).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = {"metadata": "metadata", "locale": "locale", "scenarios/routing_quality.yaml": "bench/routing_quality.yaml"}
"""A path under ``helpline/_shipped`` → its source in the checkout (``helpline.config.SHIPPED_FROM_CHECKOUT``)."""


class BuildWithData(build_py):
    """``build_py`` plus the data folders copied under ``helpline/_shipped``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "helpline" / "_shipped"
        for name, source in SHIPPED.items():
            src, dst = HERE / source, target / name
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildWithData})
