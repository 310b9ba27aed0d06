"""The layout is the architecture, and stays so: the pure core imports no I/O, no clock and no
shell module; no import cycle among the bot's modules (imports inside functions count); at most
15 modules directly under `bot/`."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
CORE = BOT / "core"
# What the core may not import: I/O, concurrency, the clock, the database, the network.
FORBIDDEN = {
    "asyncio",
    "aiohttp",
    "sqlalchemy",
    "gidgethub",
    "socket",
    "ssl",
    "threading",
    "concurrent",
    "multiprocessing",
    "subprocess",
    "time",
    "urllib.request",
    "http",
    "requests",
    "psycopg",
    "alembic",
    "tenacity",
    "os",
    "shutil",
    "signal",
}
# What of the bot the core may import: itself and the rule-file models (plain data).
CORE_MAY_IMPORT = ("bot.core", "bot.rules.models")


def module_name(path: Path) -> str:
    rel = path.relative_to(BOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every module `path` imports, anywhere in it (functions included), with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            # `from bot.core import texts` imports the module bot.core.texts
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return out


def bot_modules() -> dict[str, Path]:
    return {module_name(p): p for p in BOT.rglob("*.py") if "migrations" not in p.parts}


def test_the_core_has_its_modules():
    modules = [p for p in CORE.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) >= 6, [p.name for p in modules]


def test_the_core_imports_no_io_no_clock_and_no_shell():
    problems = []
    known = bot_modules()
    for path in CORE.rglob("*.py"):
        for mod, line in imports_of(path):
            top = mod.split(".")[0]
            if any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN):
                problems.append(f"{path.name}:{line}: imports {mod}")
            elif top == "datetime" and mod.endswith(("now", "today", "utcnow")):
                problems.append(f"{path.name}:{line}: reads the clock ({mod})")
            elif top == "bot" and mod in known and not mod.startswith(CORE_MAY_IMPORT):
                problems.append(f"{path.name}:{line}: imports the shell module {mod}")
    assert not problems, "\n".join(problems)


def test_the_core_reads_no_clock():
    """No `datetime.now()`, `time.time()` or `date.today()` calls: `now` is an argument."""
    problems = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("now", "utcnow", "today", "time", "monotonic"):
                    problems.append(f"{path.name}:{node.lineno}: calls .{node.func.attr}()")
    assert not problems, "\n".join(problems)


def test_no_import_cycle_among_the_bots_modules():
    known = bot_modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        graph[name] = {m for m, _ in imports_of(path) if m in known and m != name}
    # a package's __init__ is imported with any of its modules: not an edge of its own making
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_at_most_fifteen_modules_directly_under_bot():
    modules = sorted(p.name for p in BOT.glob("*.py"))
    assert len(modules) <= 15, modules
