"""Lineage on demand: what a model is built from and what reads it.

`python -m tooling.lineage marts.client_risk_weekly` (or `make lineage MODEL=...`)
prints the models it depends on (by layer; seeds are the agency config as tables), the
raw tables underneath, the config keys its SQL reads through `getvariable(...)`, and the
reverse: the models and the code that read it. Everything is read from the models
themselves (their SQL, a Python model's DEPENDS_ON) and from the function that hands the
config to the build, so the answer cannot drift from what the build does.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transforms.catalog import LAYERS, MODELS_DIR
from transforms.runner import Model, discover

PROJECT_ROOT = MODELS_DIR.parent.parent
CODE_DIRS = ("clientpulse", "dags", "plugins", "tooling")
_RAW = re.compile(r"\braw\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_VARIABLE = re.compile(r"getvariable\(\s*'([a-z_][a-z0-9_]*)'\s*\)")
_COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class Lineage:
    table: str
    parents: tuple[str, ...]  # models read directly
    upstream: tuple[str, ...]  # every model it is built from, in build order
    raw_tables: tuple[str, ...]
    config_keys: tuple[tuple[str, str], ...]  # (SQL variable, config key)
    downstream: tuple[str, ...]  # every model built from it, in build order
    code: tuple[str, ...]  # source files outside the models that name it


def _source(model: Model) -> str:
    if model.path is None:
        return ""
    text = model.path.read_text(encoding="utf-8")
    return _COMMENT.sub("", text) if model.kind == "sql" else text


def variable_keys() -> dict[str, str]:
    """Each SQL variable's config key, read from `model_variables` (build_signals.py):
    local aliases (`risk = signals.risk`) are resolved back to the config's root."""
    from clientpulse.pipeline.build_signals import model_variables

    tree = ast.parse(inspect.getsource(model_variables))
    function = tree.body[0]
    aliases: dict[str, ast.expr] = {}
    returned: ast.Dict | None = None
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            values = value.elts if isinstance(value, ast.Tuple) else [value]
            for name, expr in zip(names, values, strict=True):
                if isinstance(name, ast.Name):
                    aliases[name.id] = expr
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            returned = node.value

    def path(expr: ast.expr) -> str:
        if isinstance(expr, ast.BoolOp):  # `crm.budget_property or ""`: the key is the first
            return path(expr.values[0])
        if isinstance(expr, ast.Attribute):
            return f"{path(expr.value)}.{expr.attr}".lstrip(".")
        if isinstance(expr, ast.Name):
            return "" if expr.id == "config" else path(aliases[expr.id])
        return ast.unparse(expr)

    if returned is None:
        raise RuntimeError("model_variables returns no dict literal")
    return {
        key.value: path(value)
        for key, value in zip(returned.keys, returned.values, strict=True)
        if isinstance(key, ast.Constant)
    }


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        table = stack.pop()
        if table not in seen:
            seen.add(table)
            stack.extend(edges.get(table, ()))
    return seen


def _readers_in_code(table: str, roots: Iterable[Path]) -> list[str]:
    pattern = re.compile(rf"\b{re.escape(table)}\b")
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if pattern.search(path.read_text(encoding="utf-8")):
                found.append(path.relative_to(PROJECT_ROOT).as_posix())
    return found


def lineage(table: str, models: list[Model] | None = None) -> Lineage:
    """`table`'s lineage; a ValueError names the models when it is not one."""
    models = discover() if models is None else models
    by_table = {m.table: m for m in models}
    if table not in by_table:
        raise ValueError(f"no model {table!r}; models: {', '.join(sorted(by_table))}")
    parents = {m.table: set(m.depends_on) for m in models}
    children: dict[str, set[str]] = {}
    for child, reads in parents.items():
        for parent in reads:
            children.setdefault(parent, set()).add(child)
    order = [m.table for m in models]
    upstream = _closure(table, parents)
    downstream = _closure(table, children)
    built_from = [by_table[t] for t in (*upstream, table)]
    raw = {f"raw.{name.lower()}" for m in built_from for name in _RAW.findall(_source(m))}
    raw |= {d for m in built_from if m.kind == "python" for d in _declared(m) if d[:4] == "raw."}
    keys = variable_keys()
    variables = {v for m in built_from for v in _VARIABLE.findall(_source(m))} - {"as_of"}
    return Lineage(
        table=table,
        parents=tuple(t for t in order if t in parents[table]),
        upstream=tuple(t for t in order if t in upstream),
        raw_tables=tuple(sorted(raw)),
        config_keys=tuple(sorted((v, keys.get(v, "?")) for v in variables)),
        downstream=tuple(t for t in order if t in downstream),
        code=tuple(_readers_in_code(table, (PROJECT_ROOT / d for d in CODE_DIRS))),
    )


def _declared(model: Model) -> tuple[str, ...]:
    text = _source(model)
    match = re.search(r"^DEPENDS_ON\s*=\s*(\([^)]*\))", text, re.MULTILINE)
    return tuple(ast.literal_eval(match.group(1))) if match else ()


def render(found: Lineage, models: list[Model]) -> str:
    kinds = {m.table: m.kind for m in models}

    def by_layer(tables: tuple[str, ...]) -> list[str]:
        lines = []
        for layer in LAYERS:
            mine = [t for t in tables if t.split(".")[0] == layer]
            if mine:
                shown = [f"{t} (seed: the config)" if kinds[t] == "seed" else t for t in mine]
                lines.append(f"    {layer}: " + ", ".join(shown))
        return lines or ["    (none)"]

    lines = [
        f"{found.table}",
        "  reads directly: " + (", ".join(found.parents) or "(nothing)"),
        "  built from:",
        *by_layer(found.upstream),
        "  raw tables: " + (", ".join(found.raw_tables) or "(none)"),
        "  config keys (SQL variable ← key of the agency config):",
        *([f"    {v} ← {k}" for v, k in found.config_keys] or ["    (none)"]),
        "  read by models:",
        *by_layer(found.downstream),
        "  read by code: " + (", ".join(found.code) or "(none)"),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tooling.lineage <layer.model>", file=sys.stderr)
        return 2
    models = discover()
    try:
        found = lineage(argv[0], models)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.write(render(found, models))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
