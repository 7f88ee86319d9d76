"""Logging: one logger tree for the lab, a console handler and one file per session."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

LOG_FORMAT = "[%(asctime)s %(levelname)s %(name)s] %(message)s"
_ROOT = "slm_acl"


def get_logger(name: str) -> logging.Logger:
    if not name.startswith(_ROOT):
        name = f"{_ROOT}.{name}"
    return logging.getLogger(name)


def setup_console(level: int = logging.INFO) -> None:
    root = logging.getLogger(_ROOT)
    root.setLevel(level)
    if not any(getattr(h, "_slm_console", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        handler._slm_console = True  # type: ignore[attr-defined]
        root.addHandler(handler)


def add_warning_console() -> None:
    """Warnings and errors to stderr without changing the lab's level (Ray workers: their stderr reaches
    the driver, while INFO records still go to the session's log file)."""
    root = logging.getLogger(_ROOT)
    if not any(getattr(h, "_slm_console", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        handler._slm_console = True  # type: ignore[attr-defined]
        root.addHandler(handler)


def add_file_handler(path: str | Path) -> logging.Handler:
    """Send the lab's log records to `path` too; returns the handler so a session can remove it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger(_ROOT).addHandler(handler)
    return handler


def remove_handler(handler: logging.Handler) -> None:
    logging.getLogger(_ROOT).removeHandler(handler)
    handler.close()
