"""Which of a CorDapp's source files are its contract code, the part its states pin.

States carry a hash constraint on their contract's code, so any change to that code needs a
contract upgrade. A CorDapp with a `contracts` subpackage is split as Corda splits contracts
from workflows: its contract code is that subpackage and every module of the CorDapp it
imports, transitively (read from the sources, not by running them); flows, tools and the
package's own `__init__` may change without stranding a single state. A CorDapp without one
is pinned whole.
"""

from __future__ import annotations

import ast
from pathlib import Path

CONTRACTS = "contracts"


def contract_sources(package: str, root: Path) -> list[Path]:
    """The source files of `package` (whose directory is `root`) that make up its contract
    code, sorted."""
    every = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.relative_to(root).parts)
    if not (root / CONTRACTS / "__init__.py").is_file():
        return every
    modules = {_module_name(package, root, path): path for path in every}
    wanted = [name for name in modules if _within(name, f"{package}.{CONTRACTS}")]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        path = modules[name]
        for imported in _imports(name, path):
            for candidate in (imported, imported.rpartition(".")[0]):
                if candidate in modules and candidate != package:
                    wanted.append(candidate)
    return sorted(modules[name] for name in seen)


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _imports(name: str, path: Path) -> set[str]:
    """The modules `path` (module `name`) imports, absolute; `from m import x` gives both m and
    m.x, since x may be a submodule."""
    is_package = path.name == "__init__.py"
    base = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                module = ".".join([*anchor, module] if module else anchor)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found
