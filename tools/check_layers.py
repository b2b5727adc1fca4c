#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that pgorm's headers include only headers of their own layer or of lower ones.

The layers, bottom to top (docs/design.md, "Layers"):

  0 foundation       errors, exports, compile-time strings and reflection
  1 types            codecs: C++ types <-> PostgreSQL's binary format
  2 parameters       statement parameters and results, reading a value from a result
  3 connection       the connection and its engine's boundary (executor, query_methods)
  4 tables           table descriptors, expressions, row mapping
  5 builders         select, insert, update, remove, raw queries, COPY
  6 conveniences     pool, transactions, pipelines, schema and migrations, the umbrella

Every header under include/pgorm must be placed in a layer (a new header fails the check until
it is). Run: tools/check_layers.py [--root DIR] [--self-test]
"""

import argparse
import fnmatch
import pathlib
import re
import sys

LAYERS = [
    ("foundation", [
        "export.hpp", "attributes.hpp", "fwd.hpp", "error.hpp", "version.hpp", "sql_text.hpp",
        "reflect.hpp",
        "detail/fixed_string.hpp", "detail/byte_order.hpp", "detail/deadline.hpp",
        "detail/type_list.hpp", "detail/type_name.hpp", "detail/member_name.hpp",
        "detail/identifier.hpp", "detail/sql_scanner.hpp", "detail/sql_redaction.hpp",
        "detail/sql_writer.hpp",
    ]),
    ("types", [
        "json.hpp", "json_struct.hpp", "numeric.hpp", "uuid.hpp", "time.hpp", "enum.hpp", "bytes.hpp", "codec.hpp",
        "oids.hpp", "defaulted.hpp", "detail/codec_*.hpp", "detail/oids.hpp", "column_type.hpp",
        "inet.hpp", "range.hpp", "composite.hpp", "tsvector.hpp",
    ]),
    ("parameters", [
        "statement_shape.hpp", "result.hpp", "params.hpp", "param_pack.hpp", "types.hpp", "read_field.hpp",
    ]),
    ("connection", [
        "observer.hpp", "executor.hpp", "query_methods.hpp", "notification.hpp",
        "connection.hpp",
    ]),
    ("tables", [
        "table_options.hpp", "table.hpp", "expr.hpp", "row.hpp", "detail/table_checks.hpp",
        "range_ops.hpp",
        "detail/sql_names.hpp",
    ]),
    ("builders", [
        "query/*.hpp", "query.hpp", "copy.hpp",
    ]),
    ("conveniences", [
        "pool.hpp", "transaction.hpp", "pipeline.hpp", "schema.hpp", "migrate.hpp", "pgorm.hpp",
        "listener.hpp", "cluster.hpp", "migrate_cli.hpp",
        "async.hpp", "async/*.hpp",
        "testing/*.hpp",
    ]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"pgorm/([^"]+)"', re.MULTILINE)


def layer_of(rel, layers):
    """The index of the layer that holds header `rel` (relative to include/pgorm), or None."""
    for index, (_, patterns) in enumerate(layers):
        if any(fnmatch.fnmatchcase(rel, p) for p in patterns):
            return index
    return None


def violations(headers, layers):
    """Problems in `headers` ({relative path: text}): unplaced headers and upward includes."""
    problems = []
    for rel in sorted(headers):
        own = layer_of(rel, layers)
        if own is None:
            problems.append(f"include/pgorm/{rel}: in no layer; place it in tools/check_layers.py")
            continue
        for target in INCLUDE.findall(headers[rel]):
            other = layer_of(target, layers)
            if other is None:
                continue  # reported as unplaced on its own (or it does not exist)
            if other > own:
                problems.append(
                    f"include/pgorm/{rel} ({layers[own][0]}) includes pgorm/{target} "
                    f"({layers[other][0]}), a higher layer")
    return problems


def self_test():
    fake = {
        "error.hpp": "",
        "connection.hpp": '#include "pgorm/error.hpp"\n',
        "params.hpp": '#include "pgorm/connection.hpp"\n',  # upward: must be reported
        "brand_new.hpp": "",  # unplaced: must be reported
    }
    found = violations(fake, LAYERS)
    expected_upward = "include/pgorm/params.hpp (parameters) includes pgorm/connection.hpp"
    ok = (len(found) == 2 and any(p.startswith(expected_upward) for p in found)
          and any(p.startswith("include/pgorm/brand_new.hpp: in no layer") for p in found))
    print("check_layers self-test:", "ok" if ok else f"FAILED: {found}")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    base = pathlib.Path(args.root) / "include" / "pgorm"
    headers = {p.relative_to(base).as_posix(): p.read_text() for p in base.rglob("*.hpp")}
    problems = violations(headers, LAYERS)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} problem(s) in {len(headers)} headers")
        return 1
    print(f"check_layers: {len(headers)} headers include only their own layer or lower ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
