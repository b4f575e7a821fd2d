"""How `--help` names things, set once for the whole command tree.

Typer 0.29 writes a required argument as `{name}` in usage lines and `name <str>` in the argument table, and
gives every option its type, so a flag reads `--json <bool>` as if it took a value. The commands are declared
the plain Typer way; `tidy` walks the built Click tree once and switches each argument and flag to the
classes below, so a command added later is covered without declaring anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from typer import Context
from typer.core import TyperArgument, TyperOption


class NamedArgument(TyperArgument):
    """An argument shown as NAME (usage line, argument table, error messages), as Unix manuals write it."""

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw
        if self.nargs != 1:
            name += "..."
        return [name if self.required else f"[{name}]"]


class FlagOption(TyperOption):
    """A boolean flag: shown as `--json`, not `--json <bool>`; it takes no value."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree with its path of names (the root's path is empty), groups included."""
    yield path, command
    for name, child in sorted(getattr(command, "commands", {}).items()):
        yield from walk(child, (*path, name))


def tidy(root: Any) -> Any:
    """Give every argument of the tree a NAME metavar and every flag the flag class; returns `root`."""
    for _, command in walk(root):
        # get_params adds the `--help` option, which Click makes on demand and then keeps.
        for param in command.get_params(Context(command, **command.context_settings)):
            if isinstance(param, TyperArgument):
                if param.metavar is None:
                    param.metavar = (param.name or "value").upper()
                # Same state, other methods: the subclass adds no attribute, so switching the class is safe.
                param.__class__ = NamedArgument
            elif isinstance(param, TyperOption) and param.is_flag and not param.count:
                param.__class__ = FlagOption
    return root
