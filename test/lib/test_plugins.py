"""Plugins by module path: registries import `module:Name`, specs import `meta.plugins`, and a pickled spec
brings its plugins into whichever process unpickles it."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import make_raw

from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib import plugins
from slm_acl.lib.plugins import PluginError
from slm_acl.spec import validate
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_spec

ROOT = Path(__file__).resolve().parents[2]

TEACHER_MODULE = '''
import dataclasses
from slm_acl.curriculum.teachers.base import Proposal, Teacher
from slm_acl.curriculum.teachers.registry import TEACHERS


@dataclasses.dataclass(frozen=True)
class HalfConfig:
    where: float = 0.5


class Half(Teacher):  # not registered: a spec names it by module path
    Config = HalfConfig

    def sample_task(self):
        return Proposal([self.config.where] * self.dim)


@TEACHERS.register("{registered}")
class Registered(Half):
    pass


class NotATeacher:
    Config = HalfConfig
'''


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A folder holding a user's teacher module, named per test so no two tests share a module."""
    name = f"user_teachers_{tmp_path.name}".replace("-", "_")
    (tmp_path / f"{name}.py").write_text(TEACHER_MODULE.format(registered=f"Registered_{name}"))
    yield tmp_path, name
    sys.modules.pop(name, None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for key in [k for k, v in TEACHERS.items() if getattr(v, "__module__", "") == name]:
        TEACHERS._entries.pop(key)


def spec_with_teacher(name: str, **meta) -> dict:
    return make_raw(curriculum={"teacher": {"name": name}, "task_space": {"mass": [0.5, 2.0]}},
                    meta={"seed": 3, **meta})


def test_a_teacher_by_module_path_is_imported_checked_and_built(plugin_dir):
    folder, module = plugin_dir
    run = validate(spec_with_teacher(f"{module}:Half", plugin_paths=[str(folder)]))
    teacher = run.bodies[0].curriculum.teacher
    assert teacher.name == f"{module}:Half" and teacher.cls.__name__ == "Half"
    assert teacher.config.where == 0.5
    # what the module registered under its own name is taken as registered
    assert TEACHERS.get(f"{module}:Registered_{module}") is TEACHERS.get(f"Registered_{module}")


def test_a_module_path_naming_no_teacher_or_something_else_is_one_spec_error(plugin_dir):
    folder, module = plugin_dir
    with pytest.raises(SpecError, match=rf"curriculum.teacher.name: '{module}:NotATeacher' is not a teacher: a "
                                        r"teacher subclasses slm_acl.curriculum.teachers.base.Teacher"):
        validate(spec_with_teacher(f"{module}:NotATeacher", plugin_paths=[str(folder)]))
    with pytest.raises(SpecError, match=rf"module '{module}' has no teacher 'Halff'.*Did you mean 'Half'"):
        validate(spec_with_teacher(f"{module}:Halff", plugin_paths=[str(folder)]))
    with pytest.raises(SpecError, match=r"no plugin module 'nowhere_to_be_found'"):
        validate(spec_with_teacher("nowhere_to_be_found:Half"))


def test_a_plugin_module_that_raises_on_import_says_so_with_its_own_error(tmp_path):
    (tmp_path / "broken_teachers_x.py").write_text("import numpy\nraise RuntimeError('my bug')\n")
    with pytest.raises(SpecError, match=r"meta.plugins\[0\]: plugin module 'broken_teachers_x' failed to import: "
                                        r"RuntimeError: my bug"):
        validate(spec_with_teacher("Random", plugins=["broken_teachers_x"], plugin_paths=[str(tmp_path)]))


def test_meta_plugins_registers_plain_names_and_bad_values_name_the_key(plugin_dir):
    folder, module = plugin_dir
    run = validate(spec_with_teacher(f"Registered_{module}", plugins=[module], plugin_paths=[str(folder)]))
    assert run.bodies[0].curriculum.teacher.cls.__name__ == "Registered"
    with pytest.raises(SpecError, match=r"meta.plugins: expected a list of module names; got 'x'"):
        validate(spec_with_teacher("Random", plugins="x"))


def test_the_loader_anchors_plugin_paths_to_the_spec_file_and_records_imports(plugin_dir, tmp_path, monkeypatch):
    folder, module = plugin_dir
    raw = spec_with_teacher(f"Registered_{module}")
    (folder / "specs").mkdir()
    spec_file = folder / "specs" / "spec.json"
    raw["meta"]["plugin_paths"] = [".."]  # relative to the spec file's folder, not to the current directory
    spec_file.write_text(json.dumps({"t": {k: v for k, v in raw.items() if k != "name"}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = load_spec(spec_file, "t", imports=[module])
    meta = run.raw["meta"]
    assert meta["plugins"] == [module]
    assert meta["plugin_paths"] == [str(folder.resolve()), str(spec_file.parent.resolve()), str(elsewhere.resolve())]
    assert run.spec.meta.plugins == [module]


def test_a_pickled_spec_imports_its_plugins_in_a_fresh_process_before_its_classes(plugin_dir, tmp_path):
    folder, module = plugin_dir
    run = validate(spec_with_teacher(f"{module}:Half", plugin_paths=[str(folder)]))
    blob = tmp_path / "run.pkl"
    blob.write_bytes(pickle.dumps(run))
    script = textwrap.dedent(f"""
        import pickle, sys
        run = pickle.loads(open({str(blob)!r}, "rb").read())
        print(run.bodies[0].curriculum.teacher.cls.__module__, {module!r} in sys.modules)
    """)
    # a fresh interpreter, started elsewhere, whose sys.path does not hold the plugin's folder
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "test", capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [module, "True"]


def test_entry_points_of_installed_packages_are_loaded_on_a_miss(monkeypatch, plugin_dir):
    folder, module = plugin_dir
    called = []

    class Point:
        name, value = "demo", f"{module}:register"

        def load(self):
            called.append(self.name)
            return lambda: plugins.import_module(module, [folder])

    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: [Point()] if group == "slm_acl.plugins"
                        else [])
    assert TEACHERS.get(f"Registered_{module}").__name__ == "Registered"
    assert called == ["demo"]
    TEACHERS.get("Random")
    assert called == ["demo"]  # once per process


def test_the_command_line_import_flag_is_checked(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), "spec/demo.json", "x", "--import",
                          "no_such_plugin_module"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "spec error at --import: no plugin module 'no_such_plugin_module'" in out.stderr


def test_a_malformed_module_path_is_refused():
    with pytest.raises(PluginError, match="write 'package.module:Name'"):
        plugins.split(":Half")
