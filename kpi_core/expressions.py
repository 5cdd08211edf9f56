"""Arithmetic over aggregated measures, checked up front and evaluated by simpleeval (never ``eval``)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache

from simpleeval import SimpleEval

from kpi_core.errors import ExpressionSyntaxError

__all__ = ["ExpressionSyntaxError", "evaluate", "names_in"]

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Name,
    ast.Load,
    ast.Constant,
)


@lru_cache(maxsize=512)
def names_in(expression: str) -> frozenset[str]:
    """The measure names an expression uses; raises ExpressionSyntaxError on anything but arithmetic."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ExpressionSyntaxError(f"cannot parse {expression!r}: {error.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionSyntaxError(f"{expression!r} may only use + - * / ( ), numbers and measure keys")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ExpressionSyntaxError(f"{expression!r} may only contain numbers, not {node.value!r}")
        if isinstance(node, ast.Name):
            names.add(node.id)
    return frozenset(names)


def evaluate(expression: str, values: Mapping[str, float]) -> float | None:
    """The expression's value, or None when a name has no value or it divides by zero."""
    needed = names_in(expression)
    if any(values.get(name) is None for name in needed):
        return None
    evaluator = SimpleEval(names={name: float(values[name]) for name in needed}, functions={})
    try:
        return float(evaluator.eval(expression))
    except ZeroDivisionError:
        return None
