"""slm_acl: a spec-driven lab for automatic curriculum learning in deep RL."""
from setuptools import find_packages, setup

setup(
    name="slm_acl",
    version="0.1.0",
    description="Automatic curriculum learning lab: spec-driven AEB space, teachers, parametric Box2D worlds",
    python_requires=">=3.11",
    packages=find_packages(include=["slm_acl", "slm_acl.*"]),
    package_data={"slm_acl.curriculum": ["test_sets/*.json"], "slm_acl.env.bodies": ["*.json", "catalog/*.json"],
                  "slm_acl.env.terrain": ["data/*.npz"],
                  "slm_acl.analysis.report": ["published/*.json"]},
    install_requires=[
        "torch==2.13.0",  # the Makefile installs this pinned CPU build first
        "numpy>=2.0",
        "gymnasium[box2d]>=1.1",  # Box2D worlds; pygame renders Gymnasium's own envs
        "box2d>=2.3.10",
        "scikit-learn>=1.4",
        "scipy>=1.11",
        "ray[tune]>=2.9",
        "pandas>=2.0",
        "pydash>=7",
        "matplotlib>=3.8",
        "pillow>=10",  # the Box2D worlds' render() (slm_acl/env/render.py)
        "imageio>=2.31",
        "imageio-ffmpeg>=0.4",
        "tqdm>=4.66",
        "tensorboard>=2.14",  # RUN_DIR/tb/ logs through torch.utils.tensorboard (meta.tensorboard: false turns them off)
        "threadpoolctl>=3",
    ],
    extras_require={"test": ["pytest>=8", "hypothesis>=6"], "bench": ["stable-baselines3>=2.3"],
                    "search": ["optuna>=3.4"]},  # meta.search_algorithm "optuna"
    entry_points={"console_scripts": ["slm-acl = slm_acl.cli:main"]},  # the same command line as run_lab.py
)
