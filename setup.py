"""Build script for hand_pose_ros (ament_python).

colcon calls this for ROS 2 installs; `pip install -e .` uses it for the development venv. The
version is read from package.xml so that file stays the single source of truth.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE_NAME = "hand_pose_ros"
HERE = Path(__file__).resolve().parent


def _package_xml_version() -> str:
    """Return <version> from package.xml so colcon and pip report the same version."""
    version = ET.parse(HERE / "package.xml").getroot().findtext("version")
    if not version:
        raise RuntimeError("package.xml has no <version>")
    return version.strip()


def _share(subdir: str, pattern: str) -> tuple[str, list[str]]:
    """Install every file matching `subdir/pattern` under share/<package>/<subdir>."""
    return (f"share/{PACKAGE_NAME}/{subdir}", sorted(glob(f"{subdir}/{pattern}")))


setup(
    name=PACKAGE_NAME,
    version=_package_xml_version(),
    packages=find_packages(
        exclude=["tests", "tests.*", "training", "training.*", "bench", "bench.*"]
    ),
    package_data={PACKAGE_NAME: ["models/*.onnx"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
        _share("launch", "*.launch.py"),
        _share("config", "*.yaml"),
        _share("rviz", "*.rviz"),
    ],
    install_requires=["setuptools"],
    extras_require={"video": ["av>=12"]},  # video files as a runner source (PyAV)
    zip_safe=False,
    maintainer="hand_pose_ros maintainers",
    maintainer_email="maintainers@example.com",
    description="Efficient 2.5D/3D hand and body pose estimation for ROS 2 (ONNX Runtime).",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [
            "hand_pose_node = hand_pose_ros.nodes.hand_pose_node:main",
            "body_pose_node = hand_pose_ros.nodes.body_pose_node:main",
            "video_pose_node = hand_pose_ros.nodes.video_pose_node:main",
            "hand_pose_run = hand_pose_ros.runner.cli:main",
        ],
    },
)
