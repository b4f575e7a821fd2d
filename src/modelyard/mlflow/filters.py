"""MLflow's search language: filter strings and order_by clauses, parsed into typed trees.

A filter is a conjunction of comparisons (MLflow has no OR):

    filter      := comparison ("AND" comparison)*
    comparison  := identifier operator value
    identifier  := ENTITY "." key | ATTRIBUTE_NAME
    key         := NAME ("." NAME)* | `backquoted` | "double quoted"
    operator    := "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN" | "NOT IN"
    value       := 'string' | "string" | number | "(" string ("," string)* ")"

Entities: `metrics.`/`metric.`, `params.`/`param.`/`parameters.`, `tags.`/`tag.`, `attributes.`/`attribute.`/
`attr.`/`run.`, `datasets.`/`dataset.`; a bare name (`name`, `run_id`) is an attribute. The parser knows the
language, not what a search supports: each search checks the comparisons it gets and refuses the others with
`unsupported(comparison, why)`, which names the clause as it was written.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from modelyard.mlflow.errors import MlflowError, invalid_parameter


class Entity(enum.StrEnum):
    ATTRIBUTE = "attribute"
    METRIC = "metric"
    PARAM = "param"
    TAG = "tag"
    DATASET = "dataset"


ENTITY_PREFIXES: dict[str, Entity] = {
    "attribute": Entity.ATTRIBUTE, "attributes": Entity.ATTRIBUTE, "attr": Entity.ATTRIBUTE, "run": Entity.ATTRIBUTE,
    "metric": Entity.METRIC, "metrics": Entity.METRIC,
    "param": Entity.PARAM, "params": Entity.PARAM, "parameter": Entity.PARAM, "parameters": Entity.PARAM,
    "tag": Entity.TAG, "tags": Entity.TAG,
    "dataset": Entity.DATASET, "datasets": Entity.DATASET,
}  # fmt: skip


class Operator(enum.StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    LESS = "<"
    LESS_OR_EQUAL = "<="
    GREATER = ">"
    GREATER_OR_EQUAL = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"


COMPARISON_OPERATORS = frozenset(
    {Operator.EQUAL, Operator.NOT_EQUAL, Operator.LESS, Operator.LESS_OR_EQUAL, Operator.GREATER,
     Operator.GREATER_OR_EQUAL}
)  # fmt: skip
PATTERN_OPERATORS = frozenset({Operator.LIKE, Operator.ILIKE})
SET_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})

Value = str | int | float | tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """One clause: `entity.key operator value`; `text` is the clause as the caller wrote it."""

    entity: Entity
    key: str
    operator: Operator
    value: Value
    text: str

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)


@dataclass(frozen=True)
class Filter:
    """The comparisons of a filter string, all of which must hold."""

    comparisons: tuple[Comparison, ...] = ()

    def of(self, entity: Entity) -> list[Comparison]:
        return [comparison for comparison in self.comparisons if comparison.entity == entity]


def unsupported(comparison: Comparison, why: str) -> MlflowError:
    """INVALID_PARAMETER_VALUE naming the clause a search cannot answer, and why."""
    return invalid_parameter(f"unsupported filter clause `{comparison.text}`: {why}")


# -- tokens -------------------------------------------------------------------------------------
class Kind(enum.Enum):
    NAME = "name"  # an identifier, dotted or not; ends with "." when a quoted key follows
    QUOTED_NAME = "quoted name"  # `backquoted`
    STRING = "string"
    NUMBER = "number"
    OPERATOR = "operator"
    OPEN = "("
    CLOSE = ")"
    COMMA = ","
    END = "end of the filter"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # the value: unquoted for strings and names
    start: int
    end: int
    double_quoted: bool = False


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<backquoted>`(?:[^`]|``)*`)
  | (?P<single>'(?:[^'\\]|''|\\.)*')
  | (?P<double>"(?:[^"\\]|""|\\.)*")
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<operator><=|>=|!=|<>|==|=|<|>)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\.?)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<comma>,)
    """,
    re.VERBOSE,
)
_ESCAPES = re.compile(r"\\(.)")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid_parameter(
                f"filter is not valid: unexpected character {text[position]!r} at position {position} of {text!r}"
            )
        kind_name, raw = match.lastgroup, match.group()
        start, position = position, match.end()
        if kind_name == "space":
            continue
        if kind_name == "backquoted":
            tokens.append(Token(Kind.QUOTED_NAME, raw[1:-1].replace("``", "`"), start, position))
        elif kind_name in ("single", "double"):
            quote = raw[0]
            body = _ESCAPES.sub(r"\1", raw[1:-1].replace(quote * 2, quote))
            tokens.append(Token(Kind.STRING, body, start, position, double_quoted=quote == '"'))
        elif kind_name == "operator":
            operator = {"<>": "!=", "==": "="}.get(raw, raw)
            tokens.append(Token(Kind.OPERATOR, operator, start, position))
        else:
            kind = {"number": Kind.NUMBER, "name": Kind.NAME, "open": Kind.OPEN, "close": Kind.CLOSE,
                    "comma": Kind.COMMA}[kind_name or ""]  # fmt: skip
            tokens.append(Token(kind, raw, start, position))
    tokens.append(Token(Kind.END, "", len(text), len(text)))
    return tokens


# -- filter parser --------------------------------------------------------------------------------
class _Parser:
    """Recursive descent over the tokens of one filter string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def is_keyword(self, word: str) -> bool:
        return self.current.kind == Kind.NAME and self.current.text.upper() == word

    def error(self, expected: str) -> MlflowError:
        token = self.current
        found = "the end of the filter" if token.kind == Kind.END else repr(self.text[token.start : token.end])
        return invalid_parameter(
            f"filter is not valid: expected {expected} at position {token.start}, found {found} in {self.text!r}"
        )

    def parse(self) -> Filter:
        comparisons = [self.comparison()]
        while self.current.kind != Kind.END:
            if self.is_keyword("AND"):
                self.advance()
                comparisons.append(self.comparison())
            elif self.is_keyword("OR"):
                raise invalid_parameter(
                    f"unsupported filter clause `{self.text[self.current.start :].strip()}`: OR is not supported "
                    "(MLflow filters are conjunctions: join comparisons with AND)"
                )
            else:
                raise self.error("AND or the end of the filter")
        return Filter(tuple(comparisons))

    def comparison(self) -> Comparison:
        start = self.current.start
        if self.current.kind == Kind.OPEN:
            raise invalid_parameter(
                f"unsupported filter clause starting at position {start} of {self.text!r}: parentheses around "
                "comparisons are not supported (write the comparisons joined with AND)"
            )
        if self.is_keyword("NOT"):
            raise invalid_parameter(
                f"unsupported filter clause `{self.text[start:].strip()}`: NOT before a comparison is not "
                "supported (use != or NOT IN)"
            )
        entity, key = self.identifier()
        operator = self.operator(start)
        value = self.value(operator)
        end = self.tokens[self.index - 1].end
        return Comparison(entity, key, operator, value, self.text[start:end].strip())

    def identifier(self) -> tuple[Entity, str]:
        token = self.current
        if token.kind == Kind.QUOTED_NAME:  # a backquoted attribute name
            self.advance()
            return Entity.ATTRIBUTE, token.text
        if token.kind != Kind.NAME or token.text.upper() in ("AND", "OR", "NOT", "IN", "LIKE", "ILIKE"):
            raise self.error("an identifier such as metrics.accuracy, params.lr, tags.team or name")
        self.advance()
        prefix, dot, rest = token.text.partition(".")
        if not dot:
            return Entity.ATTRIBUTE, prefix
        entity = ENTITY_PREFIXES.get(prefix.lower())
        if entity is None:
            raise invalid_parameter(
                f"unsupported filter clause `{token.text}...`: {prefix!r} is not an entity; use one of metrics, "
                "params, tags, attributes, datasets"
            )
        if rest:
            return entity, rest
        quoted = self.current
        if quoted.kind == Kind.QUOTED_NAME or (quoted.kind == Kind.STRING and quoted.double_quoted):
            self.advance()
            return entity, quoted.text
        raise self.error(f'a key after {token.text!r} (a name, `backquoted` or "double quoted")')

    def operator(self, clause_start: int) -> Operator:
        token = self.current
        if token.kind == Kind.OPERATOR:
            self.advance()
            return Operator(token.text)
        if token.kind == Kind.NAME:
            word = token.text.upper()
            if word in ("LIKE", "ILIKE", "IN"):
                self.advance()
                return Operator(word)
            if word == "NOT":
                self.advance()
                if self.is_keyword("IN"):
                    self.advance()
                    return Operator.NOT_IN
                raise self.error("IN after NOT")
            if word == "IS":
                raise invalid_parameter(
                    f"unsupported filter clause `{self.text[clause_start:].strip()}`: IS [NOT] NULL is not supported"
                )
        raise self.error("an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)")

    def value(self, operator: Operator) -> Value:
        token = self.current
        if operator in SET_OPERATORS:
            return self.string_list()
        if token.kind == Kind.STRING:
            self.advance()
            return token.text
        if token.kind == Kind.NUMBER and operator not in PATTERN_OPERATORS:
            self.advance()
            return _number(token.text)
        expected = "a quoted string" if operator in PATTERN_OPERATORS else "a quoted string or a number"
        raise self.error(expected)

    def string_list(self) -> tuple[str, ...]:
        if self.current.kind != Kind.OPEN:
            raise self.error("'(' opening the list of values")
        self.advance()
        values: list[str] = []
        while True:
            token = self.current
            if token.kind == Kind.STRING:
                values.append(token.text)
            elif token.kind == Kind.NUMBER:
                values.append(token.text)
            else:
                raise self.error("a quoted string in the list")
            self.advance()
            if self.current.kind == Kind.COMMA:
                self.advance()
                continue
            if self.current.kind == Kind.CLOSE:
                self.advance()
                return tuple(values)
            raise self.error("',' or ')' in the list of values")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_filter(text: str | None) -> Filter:
    """The comparisons of an MLflow filter string; an empty or missing filter has none."""
    if text is None or not text.strip():
        return Filter()
    return _parsed(text)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Filter:
    # Clients send the same few filters again and again (MLflow's adds its prompt clause to every registry
    # search); a Filter is immutable, so each is parsed once. Refusals raise and are not kept.
    return _Parser(text).parse()


# -- order_by --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderKey:
    """One `order_by` entry: `metrics.rmse DESC`, `name`, `attributes.start_time ASC`."""

    entity: Entity
    key: str
    ascending: bool
    text: str


def parse_order_by(clauses: list[str] | None) -> list[OrderKey]:
    """The keys of MLflow's `order_by` list, in order; each is `identifier [ASC|DESC]`."""
    keys: list[OrderKey] = []
    for clause in clauses or []:
        parser = _Parser(clause)
        entity, key = parser.identifier()
        ascending = True
        if parser.is_keyword("ASC") or parser.is_keyword("DESC"):
            ascending = parser.advance().text.upper() == "ASC"
        if parser.current.kind != Kind.END:
            raise invalid_parameter(
                f"order_by clause {clause!r} is not valid: write an identifier and an optional ASC or DESC, "
                "e.g. 'metrics.accuracy DESC'"
            )
        keys.append(OrderKey(entity, key, ascending, clause.strip()))
    return keys


def unsupported_order(key: OrderKey, why: str) -> MlflowError:
    return invalid_parameter(f"unsupported order_by clause `{key.text}`: {why}")


def like_pattern_to_regex(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    """SQL LIKE (`%` any run, `_` one character) as a compiled regular expression, for checks in Python."""
    parts = ["." if char == "_" else ".*" if char == "%" else re.escape(char) for char in pattern]
    return re.compile("".join(parts) + r"\Z", re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)
