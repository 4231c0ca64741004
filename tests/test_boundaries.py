"""The dependency rules of docs/architecture.md, checked on the source (AST, no imports run):

    blueprints → services → (sync, providers, models, core);  jobs → services;  app → everything
    services never import jobs (they ask the `services.background` seam);
    sync/ is pure: no Flask, requests, Redis, RQ, SQLAlchemy, nor any of our I/O modules;
    providers/ and sandbox/ never import each other (each is written from the API facts alone);
    blueprints reach a CRM only through the registry (`providers`, `providers.base/errors/types`),
    never a provider package (`providers.cats`, ...);
    and no import circle among our modules, counting function-local imports (which only hide one).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("blueprints", "services", "jobs", "sync", "providers", "sandbox")
TOP_MODULES = ("app", "cli", "config", "core", "models", "crypto", "logs")
IO_LIBRARIES = {"flask", "flask_login", "flask_sqlalchemy", "requests", "redis", "rq", "sqlalchemy",
                "psycopg", "urllib3", "socket", "http"}
OURS_WITH_IO = {"core", "models", "services", "jobs", "blueprints", "providers", "sandbox", "app", "cli",
                "crypto", "config"}
REGISTRY_MODULES = {"providers", "providers.base", "providers.errors", "providers.types"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in TOP_MODULES if (ROOT / f"{name}.py").exists()}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, modules: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth, resolved to our modules
    where it names one (`from a import b` → a.b when a.b is a module, else a)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(p for p in [*anchor, base] if p)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub if sub in modules else base, node.lineno))
    return out


def _graph() -> dict[str, list[tuple[str, int]]]:
    sources = _sources()
    modules = set(sources)
    return {name: _imports(name, path, modules) for name, path in sources.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def _violations(rule) -> list[str]:   # noqa: ANN001 (a predicate over (importer, imported))
    return [f"{src}:{line} imports {dst}" for src, edges in _graph().items()
            for dst, line in edges if rule(src, dst)]


def test_services_never_import_jobs() -> None:
    assert _violations(lambda s, d: _top(s) == "services" and _top(d) == "jobs") == []


def test_sync_is_pure() -> None:
    bad = _violations(lambda s, d: _top(s) == "sync" and _top(d) in IO_LIBRARIES | OURS_WITH_IO)
    assert bad == []


def test_providers_and_sandbox_never_import_each_other() -> None:
    bad = _violations(lambda s, d: {_top(s), _top(d)} == {"providers", "sandbox"})
    assert bad == []


def test_blueprints_reach_providers_only_through_the_registry() -> None:
    bad = _violations(lambda s, d: _top(s) == "blueprints" and _top(d) in ("providers", "sandbox")
                      and d not in REGISTRY_MODULES)
    assert bad == []


def test_jobs_and_rq_stay_in_jobs() -> None:
    """Only jobs/ (and the entry points that start workers) know RQ."""
    allowed = {"jobs", "app", "cli"}
    assert _violations(lambda s, d: _top(d) == "rq" and _top(s) not in allowed) == []


def test_no_import_circle() -> None:
    graph = {src: {d for d, _ in edges if d in _graph_nodes} for src, edges in _graph().items()}
    cycles = _strongly_connected(graph)
    assert cycles == [], "import circles (function-local imports count): " + "; ".join(
        " → ".join(sorted(c)) for c in cycles)


_graph_nodes = set(_sources())


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm; returns the components with more than one module (or a self-import).
    A package importing its own submodules (`jobs` → `jobs.push`) is how packages are built, not a
    circle, unless the submodule imports the package back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_every_crm_has_the_same_shape() -> None:
    """Adding a CRM = one folder in providers/ and one in sandbox/ (docs/adding-a-crm.md)."""
    from providers import PROVIDER_KEYS, get_provider

    for key in PROVIDER_KEYS:
        have = {p.name for p in (ROOT / "providers" / key).glob("*.py")}
        assert {"client.py", "mappers.py", "provider.py", "schemas.py", "assumed.py"} <= have, key
        schemas = ast.parse((ROOT / "providers" / key / "schemas.py").read_text())
        assert "Credentials" in {n.name for n in schemas.body if isinstance(n, ast.ClassDef)}, key
        assert get_provider(key).credentials_schema.__name__ == "Credentials", key
        sandbox = {p.name for p in (ROOT / "sandbox" / key).glob("*.py")}
        assert {"__init__.py", "wire.py", "catalog.py", "people.py"} <= sandbox, key
