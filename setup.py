import os
from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent


def paddle_requirement(line):
    """requirements.txt names the CPU build; ``PPIR_PADDLE=gpu pip install -e .`` asks for the GPU
    build instead (install paddlepaddle-gpu from Paddle's own index first: PyPI lacks 3.x), so
    pip never puts the CPU build beside it."""
    if os.environ.get("PPIR_PADDLE", "cpu").lower() == "gpu":
        return line.replace("paddlepaddle", "paddlepaddle-gpu", 1)
    return line


TEST_ONLY = ("pytest", "selenium", "httpx")  # the tests' own tools (extras_require["test"])

requirements = [
    paddle_requirement(line.strip()) if line.startswith("paddlepaddle") else line.strip()
    for line in (here / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#") and not line.startswith(TEST_ONLY)
]

setup(
    name="ppir",
    version="0.1.0",
    description="PaddlePaddle model zoo for image restoration: MPRNet, MIRNetV2, MIRNet",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["ppir", "ppir.*"]),
    python_requires=">=3.9",
    install_requires=requirements,
    extras_require={"test": ["pytest", "pytest-timeout", "selenium", "httpx"]},
    package_data={"ppir.serve": ["static/*"]},  # the service's page
    license="Apache-2.0",
)
