"""An import-linter contract that the built-in types cannot express: where in a workflow module an import may stand.

Temporal's sandbox re-imports every module a workflow file imports, on every workflow run, unless the import is
passed through. Modules with I/O (activities, clients, databases) must also never run inside the sandbox. So a
workflow module may import its pure dependencies (Temporal, pydantic, sim/, models/, other workflow code, the
standard library) anywhere, and everything else only inside ``with workflow.unsafe.imports_passed_through():``.
Imports under ``if TYPE_CHECKING:`` never run and are allowed.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class _Violation:
    importer: str
    imported: str
    line: int
    text: str


class PassedThroughContract(Contract):
    """Configuration: ``source_package`` (the workflow package) and ``allowed_at_top`` (top-level package names)."""

    type_name = "passed_through"

    source_package = fields.StringField()
    allowed_at_top = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        package = str(self.source_package)
        allowed = {str(name) for name in self.allowed_at_top}  # type: ignore[attr-defined]
        modules = sorted(graph.find_descendants(package) | {package})
        violations: list[_Violation] = []
        for module in modules:
            sheltered = _sheltered_lines(module)
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                top = imported.split(".")[0]
                if top in allowed or top in sys.stdlib_module_names:
                    continue
                for detail in graph.get_import_details(importer=module, imported=imported):
                    if detail["line_number"] not in sheltered:
                        violations.append(_Violation(module, imported, detail["line_number"], detail["line_contents"]))
        return ContractCheck(kept=not violations, warnings=None, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation.importer} imports {violation.imported} outside imports_passed_through() "
                f"(l.{violation.line}: {violation.text})"
            )
            output.new_line()


def _sheltered_lines(module: str) -> set[int]:
    """Line numbers of the import statements that are passed through or only seen by type checkers."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return set()
    tree = ast.parse(Path(spec.origin).read_text(), filename=spec.origin)
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.With) and any(_is_passed_through(item.context_expr) for item in node.items)) or (
            isinstance(node, ast.If) and _is_type_checking(node.test)
        ):
            lines |= _import_lines(node.body)
    return lines


def _import_lines(body: list[ast.stmt]) -> set[int]:
    return {
        line
        for statement in body
        for node in ast.walk(statement)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def _is_passed_through(expression: ast.expr) -> bool:
    return isinstance(expression, ast.Call) and ast.unparse(expression.func).endswith(
        "workflow.unsafe.imports_passed_through"
    )


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
