"""Package-wide rules, read from the source of every slm_acl module (AST, nothing imported):

1. No import cycles between slm_acl modules. Imports inside functions count: they run too, only later, and a
   deferred import that closes a loop is a cycle that import order happens to hide. Imports under
   `if TYPE_CHECKING:` never run and are left out of the cycle check: a type-only back-reference (a helper
   annotating its owner's class) is the standard way to name a type without a runtime dependency. They do
   count for the layering below, since naming a higher layer's types is depending on it.
2. The layering of DESIGN.md: lib <- env, curriculum, agent (independent of each other) <- spec <- aeb <-
   experiment; analysis reads tables and never imports experiment (or aeb); teaching (curricula for other
   trainers) sits on spec beside aeb, and no part of the lab imports it.
3. Package code never draws from a global RNG (DESIGN "every source of randomness has an owner"): no
   `np.random.<fn>` other than constructing generators, seed sequences and bit generators (and saving or
   restoring the global state for checkpoints), and nothing from the stdlib `random` module but
   getstate / setstate.
4. "Did you mean ...?" is phrased only by `slm_acl.lib.registry.did_you_mean`.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "slm_acl"

# package -> the slm_acl packages it must not import
FORBIDDEN = {
    "lib": {"env", "curriculum", "agent", "spec", "aeb", "experiment", "analysis", "teaching"},
    "env": {"curriculum", "agent", "spec", "aeb", "experiment", "analysis", "teaching"},
    "curriculum": {"env", "agent", "spec", "aeb", "experiment", "analysis", "teaching"},
    "agent": {"env", "curriculum", "spec", "aeb", "experiment", "analysis", "teaching"},
    "spec": {"aeb", "experiment", "analysis", "teaching"},
    "aeb": {"experiment", "analysis", "teaching"},
    "analysis": {"experiment", "aeb", "teaching"},
    # the wrappers for other trainers use teachers as a spec builds them, and nothing of the lab's runs
    "teaching": {"aeb", "experiment", "analysis"},
}
# (module, imported module) pairs known to break the layering, each with its owner; remove an entry when it is
# fixed (the test fails on an entry that no longer occurs, so this list cannot rot)
KNOWN_LAYER_BREAKS: set[tuple[str, str]] = set()

# numpy.random names that construct or hold a generator, or save / restore the global state (checkpoints)
NUMPY_RANDOM_ALLOWED = {"Generator", "BitGenerator", "SeedSequence", "default_rng", "PCG64", "PCG64DXSM",
                        "MT19937", "Philox", "SFC64", "get_state", "set_state"}
STDLIB_RANDOM_ALLOWED = {"getstate", "setstate"}


@dataclasses.dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported slm_acl module (a package's __init__ is the package name)
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def module_sources(root: Path = PACKAGE) -> dict[str, str]:
    """Every module of the package: dotted name -> source text (a package is its `__init__`)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path.read_text()
    return out


def _is_package(name: str, sources: dict[str, str]) -> bool:
    return any(other.startswith(name + ".") for other in sources)


def _resolve(name: str, sources: dict[str, str]) -> str | None:
    """The module a dotted name lives in (`slm_acl.a.b.func` -> `slm_acl.a.b`), or None outside the package."""
    while name and name not in sources:
        name = name.rpartition(".")[0]
    return name or None


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, sources: dict[str, str]):
        self.module, self.sources = module, sources
        self.package = module if _is_package(module, sources) else module.rpartition(".")[0]
        self.type_only = 0
        self.found: list[Import] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_tc = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
        self.type_only += is_tc
        for child in node.body:
            self.visit(child)
        self.type_only -= is_tc
        for child in node.orelse:
            self.visit(child)

    def _add(self, dotted: str, line: int) -> None:
        target = _resolve(dotted, self.sources)
        if target is not None and target != self.module:
            self.found.append(Import(self.module, target, line, self.type_only > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[:len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in self.sources else base, node.lineno)


def imports(sources: dict[str, str]) -> list[Import]:
    out = []
    for module, text in sources.items():
        visitor = _ImportVisitor(module, sources)
        visitor.visit(ast.parse(text))
        out.extend(visitor.found)
    return out


def cycles(found: list[Import]) -> list[list[Import]]:
    """Strongly connected groups of modules (runtime imports only), each as the imports that tie it."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if not imp.type_only:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [[i for i in found if not i.type_only and i.source in g and i.target in g] for g in groups]


def layer_breaks(found: list[Import]) -> list[Import]:
    out = []
    for imp in found:
        source_pkg, target_pkg = imp.source.split(".")[1:2], imp.target.split(".")[1:2]
        if source_pkg and target_pkg and target_pkg[0] in FORBIDDEN.get(source_pkg[0], ()):
            out.append(imp)
    return out


def global_rng_uses(text: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every reference to a global-RNG function of numpy.random or stdlib random."""
    tree = ast.parse(text)

    def is_global_draw(full: str) -> bool:
        module, _, attr = full.rpartition(".")
        return (module == "numpy.random" and attr not in NUMPY_RANDOM_ALLOWED) or (
            module == "random" and attr not in STDLIB_RANDOM_ALLOWED)

    found = []
    names: dict[str, str] = {}  # local name -> what it is bound to (numpy, numpy.random, random, ...)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = full = f"{node.module}.{alias.name}"
                if is_global_draw(full):
                    found.append((node.lineno, full))

    def dotted(node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            head = dotted(node.value)
            return f"{head}.{node.attr}" if head else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            full = dotted(node)
            if full is not None and is_global_draw(full):
                found.append((node.lineno, full))
    return sorted(set(found))


# ---- the rules over the package --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def package_imports() -> list[Import]:
    return imports(module_sources())


def test_the_rules_see_the_whole_package(package_imports):
    sources = module_sources()
    assert {"slm_acl.lib.registry", "slm_acl.spec.validate", "slm_acl.env.render", "slm_acl.aeb.space"} <= set(sources)
    edges = {(i.source, i.target, i.type_only) for i in package_imports}
    assert ("slm_acl.spec.validate", "slm_acl.spec.schema", False) in edges
    assert ("slm_acl.env.render", "slm_acl.env.box2d_base", True) in edges  # seen, and known to be type-only


def test_no_import_cycles_between_modules(package_imports):
    found = cycles(package_imports)
    shown = ["; ".join(f"{i.source} -> {i.target} (line {i.line})" for i in group) for group in found]
    assert not found, "import cycles:\n" + "\n".join(shown)


def test_the_layering_of_the_design_holds(package_imports):
    breaks = layer_breaks(package_imports)
    unknown = [i for i in breaks if (i.source, i.target) not in KNOWN_LAYER_BREAKS]
    assert not unknown, "layering broken:\n" + "\n".join(
        f"{i.source} imports {i.target} (line {i.line})" for i in unknown)
    stale = KNOWN_LAYER_BREAKS - {(i.source, i.target) for i in breaks}
    assert not stale, f"fixed, remove from KNOWN_LAYER_BREAKS: {sorted(stale)}"


def test_package_code_never_draws_from_a_global_rng():
    found = {name: uses for name, text in module_sources().items() if (uses := global_rng_uses(text))}
    assert not found, f"global RNG used (own a np.random.Generator from the seed tree instead): {found}"


# ---- the checkers themselves can fail ----------------------------------------------------------------------------

def test_the_cycle_check_counts_deferred_imports_and_not_type_only_ones():
    sources = {"slm_acl": "", "slm_acl.p": "", "slm_acl.p.a": "from slm_acl.p import b\n",
               "slm_acl.p.b": "def f():\n    from slm_acl.p.a import x\n",
               "slm_acl.p.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
               "slm_acl.p.d": "from .c import y\n"}
    sources["slm_acl.p.a"] += "import slm_acl.p.d\n"
    (group,) = cycles(imports(sources))
    assert {(i.source, i.target) for i in group} == {("slm_acl.p.a", "slm_acl.p.b"), ("slm_acl.p.b", "slm_acl.p.a")}


def test_the_layer_check_sees_function_level_and_type_only_imports():
    sources = {"slm_acl": "", "slm_acl.env": "", "slm_acl.spec": "", "slm_acl.spec.model": "",
               "slm_acl.env.x": "def f():\n    from slm_acl.spec import model\n",
               "slm_acl.env.y": "if TYPE_CHECKING:\n    import slm_acl.spec\n",
               "slm_acl.spec.z": "from slm_acl.env import x\n"}
    assert {(i.source, i.target) for i in layer_breaks(imports(sources))} == {
        ("slm_acl.env.x", "slm_acl.spec.model"), ("slm_acl.env.y", "slm_acl.spec")}


@pytest.mark.parametrize("text, bad", [
    ("import numpy as np\nx = np.random.permutation(3)\n", ["numpy.random.permutation"]),
    ("import numpy\nnumpy.random.seed(0)\n", ["numpy.random.seed"]),
    ("from numpy.random import shuffle\n", ["numpy.random.shuffle"]),
    ("from numpy import random as npr\nnpr.normal()\n", ["numpy.random.normal"]),
    ("import numpy as np\nf = np.random.rand\n", ["numpy.random.rand"]),
    ("import random\nrandom.random()\n", ["random.random"]),
    ("from random import choice\n", ["random.choice"]),
    ("import numpy as np\nrng = np.random.default_rng(np.random.SeedSequence(1))\ng: np.random.Generator\n"
     "s = np.random.get_state()\n", []),
    ("import random\ns = random.getstate()\nrandom.setstate(s)\n", []),
    ("from slm_acl.agent.algorithm import random\nrandom.Random\n", []),  # a package module named random
    ("def f(rng):\n    return rng.permutation(3)\n", []),
])
def test_the_rng_check_flags_global_draws_only(text, bad):
    assert [name for _, name in global_rng_uses(text)] == bad


def test_did_you_mean_is_phrased_in_one_place():
    """Every suggestion goes through `lib.registry.did_you_mean` (one wording, one closeness rule)."""
    phrasing = [name for name, text in module_sources().items()
                if "id you mean" in text and name != "slm_acl.lib.registry"]
    assert not phrasing, f"format suggestions with slm_acl.lib.registry.did_you_mean, not by hand: {phrasing}"
