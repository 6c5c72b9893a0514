"""Build step only (all metadata is in setup.cfg): put the start-up hook's .pth file at the root of the wheel."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

STARTUP_PTH = "ultralytics_neptune_startup.pth"


class BuildPyWithStartupHook(build_py):
    def run(self):
        super().run()
        self.copy_file(STARTUP_PTH, str(Path(self.build_lib) / STARTUP_PTH))


setup(cmdclass={"build_py": BuildPyWithStartupHook})
