from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
requirements = [
    line.strip()
    for line in (here / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#") and not line.startswith("pytest")
]

setup(
    name="ppir",
    version="0.1.0",
    description="PaddlePaddle model zoo for image restoration: MPRNet, MIRNetV2, MIRNet",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ppir", "ppir.*"]),
    python_requires=">=3.8",
    install_requires=requirements,
    extras_require={"test": ["pytest", "pytest-timeout"]},
    license="Apache-2.0",
)
