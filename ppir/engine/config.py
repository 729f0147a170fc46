"""Experiment configs: YAML files with ``_base_`` inheritance, ``-o key.sub=value`` overrides, and a
check of every key against :mod:`ppir.engine.schema` that names the file a mistake is in.

``_base_`` is one path or a list of paths, relative to the file that names it; bases are merged in
order, then the file itself on top (mappings merge key by key, anything else is replaced). A mapping
holding ``_delete_: true`` replaces what the bases had there instead of merging into it.

Values are read with PyYAML's safe loader, extended so that ``1e-8`` is a float as in YAML 1.2
(plain PyYAML reads it as the string '1e-8'). Nothing is ever passed to ``eval``.
"""
import copy
import difflib
import os
import re

import yaml

from ..errors import ConfigError
from ..utils.custom_imports import import_custom
from .schema import SCHEMA, Field, Free, MapOf


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads exponent-only numbers (``2e-4``) as floats."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text, source):
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}:{where} invalid YAML ({problem})") from None


def load_config(path, overrides=()):
    """Read ``path`` (and its bases), apply ``overrides`` (``['train.lr=1e-4', ...]``), fill defaults."""
    cfg = _with_defaults(_read_with_bases(os.fspath(path), chain=()), SCHEMA)
    for text in overrides or ():
        _apply_override(cfg, text)
    cfg = _with_defaults(cfg, SCHEMA)  # fills sections that an override created
    if not cfg.get("name"):
        cfg["name"] = os.path.splitext(os.path.basename(os.fspath(path)))[0]
    import_custom(cfg["custom_imports"])  # before anything is built, in every process that reads it
    return cfg


def dump_config(cfg, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False, default_flow_style=None)


# --- files and inheritance ---------------------------------------------------------------------


def _read_with_bases(path, chain):
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: config file not found")
    real = os.path.realpath(path)
    if real in chain:
        raise ConfigError(f"{path}: _base_ cycle ({' -> '.join(chain + (real,))})")
    with open(path, encoding="utf-8") as f:
        data = parse_yaml(f.read(), path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys, got {type(data).__name__}")
    bases = data.pop("_base_", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: _base_ must be a path or a list of paths")
    _check_section(data, SCHEMA, path, prefix="")
    merged = {}
    for base in bases:
        base_path = os.path.join(os.path.dirname(path), base)
        if not os.path.isfile(base_path):
            raise ConfigError(f"{path}: _base_ file {base!r} not found (looked for {base_path})")
        merged = _merge(merged, _read_with_bases(base_path, chain + (real,)))
    return _merge(merged, data)


def _merge(base, child):
    out = copy.deepcopy(base)
    for key, value in child.items():
        if isinstance(value, dict):
            value = dict(value)
            replace = value.pop("_delete_", False)
            out[key] = _merge(out[key] if isinstance(out.get(key), dict) and not replace else {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --- overrides ---------------------------------------------------------------------------------


def _apply_override(cfg, text):
    source = f"-o {text}"
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{source}: an override looks like key.sub=value")
    parts = key.strip().split(".")
    value = parse_yaml(value_text, source) if value_text.strip() else None
    spec, node = SCHEMA, cfg  # spec None: inside a free mapping or a list item, anything goes
    for depth, part in enumerate(parts):
        dotted = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.lstrip("-").isdigit() or not -len(node) <= int(part) < len(node):
                raise ConfigError(f"{source}: '{dotted}' is not an index of a {len(node)}-item list")
            part, spec = int(part), None
        elif spec is not None:
            if depth == len(parts) - 1 and value is None and isinstance(spec, MapOf):
                # '-o test.datasets.DND=null' drops one named entry (an evaluation set, say)
                if part not in node:
                    raise ConfigError(f"{source}: no '{dotted}' to remove (entries: {', '.join(node) or 'none'})")
                del node[part]
                return
            spec = spec.fields.get(part) if isinstance(spec, Free) else _child_spec(spec, part, source, dotted)
        if depth == len(parts) - 1:
            node[part] = value
        else:
            if not isinstance(node, list) and not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    if spec is not None:
        _check_value(value, spec, source, key.strip())


def _child_spec(spec, part, source, dotted):
    if isinstance(spec, MapOf):
        return spec.section
    if isinstance(spec, dict):
        if part not in spec:
            _unknown(source, dotted, part, spec)
        return spec[part]
    raise ConfigError(f"{source}: '{dotted}' goes inside a value that is not a mapping")


# --- validation and defaults -------------------------------------------------------------------


def _check_section(data, spec, source, prefix):
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: '{prefix.rstrip('.')}' must be a mapping, got {data!r}")
    for key, value in data.items():
        dotted = prefix + str(key)
        if key == "_delete_":
            continue
        if key not in spec:
            _unknown(source, dotted, key, spec)
        _check_value(value, spec[key], source, dotted)


def _check_value(value, spec, source, dotted):
    if isinstance(spec, dict):
        _check_section(value, spec, source, dotted + ".")
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{dotted}' must be a mapping of names to entries")
        for name, entry in value.items():
            _check_section(entry, spec.section, source, f"{dotted}.{name}.")
    elif isinstance(spec, Free):
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"{source}: '{dotted}' must be a mapping (name: ..., options), got {value!r}")
        for key, field in spec.fields.items():
            if value and key in value:
                _check_field(value[key], field, source, f"{dotted}.{key}")
    else:
        _check_field(value, spec, source, dotted)


_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list"}


def _is_kind(value, kind):
    """YAML's true/false are bools only (Python counts them as ints); an integer is a number."""
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, kind) or (kind is float and isinstance(value, int))


def _check_field(value, field, source, dotted):
    if value is None and field.nullable:
        return
    kind = field.kind
    if not _is_kind(value, kind):
        what = field.kind_name or _KIND_NAMES[kind]
        raise ConfigError(f"{source}: '{dotted}' must be {what}, got {value!r}")
    if field.choices and value not in field.choices:
        raise ConfigError(f"{source}: '{dotted}' must be one of {', '.join(field.choices)}; got {value!r}")
    if kind is list:
        _check_list(value, field, source, dotted)
    else:
        _check_bounds(value, field, source, dotted, "")


def _check_list(values, field, source, dotted):
    if field.length is not None and len(values) != field.length:
        raise ConfigError(f"{source}: '{dotted}' must have {field.length} items, got {values!r}")
    if field.items is None:
        return
    what = _KIND_NAMES[field.items]
    for value in values:
        if not _is_kind(value, field.items):
            raise ConfigError(f"{source}: '{dotted}' must be a list of {what.split(' ', 1)[1]}s, got {values!r}")
        _check_bounds(value, field, source, dotted, "items of ")


def _check_bounds(value, field, source, dotted, what):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if field.minimum is not None and value < field.minimum:
        raise ConfigError(f"{source}: {what}'{dotted}' must be >= {field.minimum}, got {value!r}")
    if field.maximum is not None and value > field.maximum:
        raise ConfigError(f"{source}: {what}'{dotted}' must be <= {field.maximum}, got {value!r}")


def _unknown(source, dotted, key, spec):
    close = difflib.get_close_matches(str(key), [str(k) for k in spec], n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ConfigError(f"{source}: unknown key '{dotted}'{hint}")


def _with_defaults(data, spec):
    out = {}
    for key, sub in spec.items():
        value = data.get(key)
        if isinstance(sub, dict):
            out[key] = _with_defaults(value or {}, sub)
        elif isinstance(sub, MapOf):
            out[key] = {name: _with_defaults(entry or {}, sub.section) for name, entry in (value or {}).items()}
        elif key in data:
            out[key] = float(value) if isinstance(sub, Field) and sub.kind is float and value is not None else value
        else:
            out[key] = copy.deepcopy(sub.default)
    return out
