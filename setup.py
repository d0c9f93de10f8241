"""Builds the _edgehdf5 extension with this tree's CMake (target _edgehdf5) for pip."""
import os
import pathlib
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(self.build_temp) / "cmake"
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir),
                        "-DCMAKE_BUILD_TYPE=Release", "-DEDGEHDF5_PYTHON=ON",
                        "-DEDGEHDF5_TESTS=OFF", "-DEDGEHDF5_BENCH=OFF"], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_edgehdf5",
                        "-j", str(os.cpu_count() or 2)], check=True)
        built = next((build_dir / "python" / "edgehdf5").glob("_edgehdf5*.so"))
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built), str(target))


# build_base: setuptools' own build folder, kept apart from the CMake build/ of the README.
setup(ext_modules=[Extension("edgehdf5._edgehdf5", sources=[])],
      options={"build": {"build_base": "build-pip"}},
      cmdclass={"build_ext": CMakeBuild})
