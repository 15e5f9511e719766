"""Reading docker-compose.yml as `docker compose` does: variables from an env file interpolated, then the
Compose Specification applied (the `compose-spec` package: the compose_spec crate's validated parser)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from compose_spec import PyOptions

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, $NAME
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class UnsetVariable(ValueError):
    """A `${NAME:?message}` whose variable is unset or empty: `docker compose` refuses to start."""


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value, op, arg = env.get(name), match["op"], match["arg"] or ""
        empty = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if empty else str(value)
        if op in (":?", "?"):
            if empty:
                raise UnsetVariable(f"{name}: {arg}")
            return str(value)
        return value or ""

    return _VARIABLE.sub(substitute, text)


def unset_required(text: str, env: dict[str, str]) -> set[str]:
    """The variables whose `${NAME:?…}` would stop `docker compose` with this environment."""
    missing = set()
    for match in _VARIABLE.finditer(text):
        if match["op"] in (":?", "?") and not env.get(match["braced"] or ""):
            missing.add(match["braced"])
    return missing


def load_compose(env: dict[str, str]) -> dict[str, Any]:
    """The compose file with ``env`` interpolated, parsed and validated against the Compose Specification."""
    compose = PyOptions(apply_merge=True).from_yaml(interpolate(COMPOSE_FILE.read_text(), env))
    compose.validate()
    return compose.to_dict()
