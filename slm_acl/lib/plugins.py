"""User components from outside the package: teachers, algorithms, nets and memories by module path.

A spec names a registered component by its name (`"ALP-GMM"`), or one of a user's modules by module path,
as Gymnasium's `module:EnvId` does for envs: `"teacher": {"name": "my_teachers:EpsGreedy"}` imports
`my_teachers` and takes `EpsGreedy` from the registry it registered into (`@TEACHERS.register()`), or, when
the module registers nothing under that name, the module's attribute itself, checked against the kind's base
class (`Registry.get`). Modules that register components under plain names are listed in the spec's
`meta.plugins` (or given on the command line with `--import MODULE`, which the lab adds to `meta.plugins`);
installed packages declare an entry point in the `slm_acl.plugins` group (a module, imported, or a callable
taking no arguments, called once), loaded in every process before a name is looked up.

Every process that runs a session must import the same modules before it validates or unpickles a spec:
the process pool's workers, Ray's workers (whose working directory is a trial folder), enjoy, eval and
resume. So a module is looked for on `sys.path` first, then in `meta.plugin_paths` (folders, relative to the
spec file's folder; a spec file's folder and the directory the lab was started in are searched too), and the
loader writes those folders into the resolved spec as absolute paths. A `RunSpec` pickles with its plugins
first (`slm_acl.spec.run_spec`): unpickling activates them, so a worker imports the user's modules before
the user's classes in the spec are unpickled.
"""
from __future__ import annotations

import importlib
import sys
import threading
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

ENTRY_POINT_GROUP = "slm_acl.plugins"

_lock = threading.RLock()
_entry_points_loaded = False


class PluginError(ImportError):
    """A plugin module that cannot be imported, or a module path that names nothing usable."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.message,)

    def __str__(self) -> str:
        return self.message


def add_paths(paths: Iterable[str | Path]) -> None:
    """Append folders to `sys.path` (after everything installed, so a plugin never shadows a package)."""
    with _lock:
        for path in paths:
            text = str(Path(path))
            if text not in sys.path:
                sys.path.append(text)


def import_module(name: str, paths: Iterable[str | Path] = ()) -> ModuleType:
    """Import a plugin module, looking in `paths` when `sys.path` lacks it.

    Raises:
        PluginError: naming the module and where it was looked for, with the import's own error when the
            module exists but fails (a bug in the user's module surfaces as itself, not as 'not found').
    """
    paths = [str(Path(p)) for p in paths]
    add_paths(paths)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is not None and name != err.name and not name.startswith(f"{err.name}."):
            raise PluginError(f"plugin module {name!r} failed to import: {type(err).__name__}: {err}") from err
        where = ", ".join(paths) if paths else "(no meta.plugin_paths)"
        raise PluginError(f"no plugin module {name!r}: not importable from sys.path nor from the plugin paths "
                          f"{where}; put it beside the spec file, in the directory the lab starts in, in a "
                          "folder listed in meta.plugin_paths, or install it") from None
    except Exception as err:  # noqa: BLE001 - the user's module raised while importing: say which and why
        raise PluginError(f"plugin module {name!r} failed to import: {type(err).__name__}: {err}") from err


def activate(modules: Iterable[str], paths: Iterable[str | Path] = ()) -> None:
    """Make a spec's plugins available in this process: its plugin paths on `sys.path`, its modules imported,
    the installed entry points loaded. Idempotent and cheap once done."""
    paths = list(paths)
    add_paths(paths)
    load_entry_points()
    for name in modules:
        import_module(name, paths)


def load_entry_points() -> None:
    """Load the `slm_acl.plugins` entry points of installed packages, once per process."""
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
            except Exception as err:  # noqa: BLE001 - name the package whose entry point is broken
                raise PluginError(f"entry point {point.name!r} ({point.value}) of group {ENTRY_POINT_GROUP} "
                                  f"failed to load: {type(err).__name__}: {err}") from err
            if callable(loaded) and not isinstance(loaded, ModuleType):
                loaded()


def split(reference: str) -> tuple[str, str] | None:
    """`"pkg.module:Name"` -> ("pkg.module", "Name"); None for a plain registered name."""
    if not isinstance(reference, str) or ":" not in reference:
        return None
    module, _, attribute = reference.partition(":")
    if not module or not attribute:
        raise PluginError(f"{reference!r} is not a module path: write 'package.module:Name'")
    return module, attribute
