#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora under fuzz/corpus/<target>/: valid inputs that start libFuzzer
off in every branch (one file per seed, named after what it is). Re-run after adding a type
to checks.hpp's decodable_types; the decode seeds' first byte is the index in that list."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Index of each type in pgorm::fuzz::detail::decodable_types (fuzz/checks.hpp), in order.
TYPES = ["bool", "int16", "int32", "int64", "float", "double", "string", "bytea", "json",
         "jsonb", "uuid", "numeric", "timestamptz", "timestamp", "date", "time", "interval",
         "enum_mood", "enum_color", "opt_int32", "opt_string", "opt_numeric", "arr_bool",
         "arr_int16", "arr_int32", "arr_int64", "arr_float", "arr_double", "arr_string",
         "arr_bytea", "arr_json", "arr_jsonb", "arr_uuid", "arr_numeric", "arr_timestamptz",
         "arr_timestamp", "arr_date", "arr_time", "arr_interval", "arr_opt_int32",
         "arr_opt_string", "arr_opt_numeric", "arr_opt_bool", "arr_opt_uuid", "inet", "cidr",
         "arr_opt_inet", "int4range", "int8range", "numrange", "tsrange", "tstzrange",
         "daterange", "arr_int8range", "md2_int32", "md3_opt_string",
         "composite_pair", "tsvector", "arr_tsvector"]
OID = {"bool": 16, "bytea": 17, "int8": 20, "int2": 21, "int4": 23, "text": 25, "json": 114,
       "float4": 700, "float8": 701, "date": 1082, "time": 1083, "timestamp": 1114,
       "timestamptz": 1184, "interval": 1186, "numeric": 1700, "uuid": 2950, "jsonb": 3802,
       "inet": 869, "cidr": 650, "int8range": 3926, "tsvector": 3614}


def numeric(ndigits_list, weight, sign, dscale):
    out = struct.pack(">hhHH", len(ndigits_list), weight, sign, dscale)
    return out + b"".join(struct.pack(">h", d) for d in ndigits_list)


UUID = bytes.fromhex("a0eebc999c0b4ef8bb6d6bb9bd380a11")
SCALARS = {
    "bool": [b"\x01", b"\x00"],
    "int16": [struct.pack(">h", -2)],
    "int32": [struct.pack(">i", 42), struct.pack(">q", 1 << 40)],
    "int64": [struct.pack(">q", -(1 << 62)), struct.pack(">h", 7)],
    "float": [struct.pack(">f", 1.5)],
    "double": [struct.pack(">d", -0.25), struct.pack(">f", 2.0)],
    "string": [b"hello, world"],
    "bytea": [b"\x00\x01\xff"],
    "json": [b'{"a": [1, 2]}'],
    "jsonb": [b'\x01{"a": 1}'],
    "uuid": [UUID],
    "numeric": [numeric([1, 2345, 6780], 1, 0, 3), numeric([], 0, 0xC000, 0),
                numeric([5000], -1, 0x4000, 1), numeric([], 0, 0xD000, 0)],
    "timestamptz": [struct.pack(">q", 765432100000000), struct.pack(">q", (1 << 63) - 1)],
    "timestamp": [struct.pack(">q", -1)],
    "date": [struct.pack(">i", 8800), struct.pack(">i", -(1 << 31))],
    "time": [struct.pack(">q", 34200000000)],
    "interval": [struct.pack(">qii", 3600000000, 2, 1)],
    "enum_mood": [b"happy"],
    "enum_color": [b"green"],
    # inet_send: family (2 IPv4, 3 IPv6), prefix, is_cidr, address length, address.
    "inet": [bytes([2, 32, 0, 4, 192, 168, 0, 1]), bytes([2, 24, 0, 4, 10, 1, 2, 3]),
             bytes([3, 128, 0, 16]) + bytes(15) + b"\x01",
             bytes([3, 64, 0, 16]) + bytes.fromhex("20010db8000000000000000000000005")],
    "cidr": [bytes([2, 0, 1, 4, 0, 0, 0, 0]), bytes([3, 0, 1, 16]) + bytes(16),
             bytes([2, 24, 1, 4, 192, 168, 10, 0])],
}
SCALARS["opt_int32"] = SCALARS["int32"]
SCALARS["opt_string"] = SCALARS["string"]
SCALARS["opt_numeric"] = SCALARS["numeric"]
ELEMENT = {"bool": "bool", "int16": "int2", "int32": "int4", "int64": "int8", "float": "float4",
           "double": "float8", "string": "text", "bytea": "bytea", "json": "json",
           "jsonb": "jsonb", "uuid": "uuid", "numeric": "numeric", "timestamptz": "timestamptz",
           "timestamp": "timestamp", "date": "date", "time": "time", "interval": "interval",
           "opt_int32": "int4", "opt_string": "text", "opt_numeric": "numeric",
           "opt_bool": "bool", "opt_uuid": "uuid", "opt_inet": "inet", "int8range": "int8range",
           "tsvector": "tsvector"}
SCALARS["opt_bool"] = SCALARS["bool"]
SCALARS["opt_uuid"] = SCALARS["uuid"]
SCALARS["opt_inet"] = SCALARS["inet"]


def rng(flags, *bounds):
    """range_send: flags (1 empty, 2/4 lower/upper inclusive, 8/16 lower/upper unbounded),
    then each present bound as int32 length + bytes."""
    return bytes([flags]) + b"".join(struct.pack(">i", len(b)) + b for b in bounds)


# record_send: field count, then per field its type OID, int32 length (-1 NULL) and bytes.
SCALARS["composite_pair"] = [
    struct.pack(">iIii", 2, 23, 4, 7) + struct.pack(">Ii", 25, 2) + b"hi",
    struct.pack(">iIiq", 2, 20, 8, 1 << 40) + struct.pack(">Ii", 25, -1),
    struct.pack(">iIih", 2, 21, 2, -3) + struct.pack(">Ii", 1043, 0)]
SCALARS["int4range"] = [rng(2, struct.pack(">i", 1), struct.pack(">i", 10)), rng(1), rng(0x18),
                        rng(0x08, struct.pack(">i", -5))]
SCALARS["int8range"] = [rng(2, struct.pack(">q", -1), struct.pack(">q", 1 << 40)),
                        rng(0x10 | 2, struct.pack(">q", 7))]
SCALARS["numrange"] = [rng(4, numeric([1], 0, 0, 1), numeric([2, 2500], 0, 0, 2)), rng(1)]
SCALARS["tsrange"] = [rng(0x08, struct.pack(">q", -1))]
SCALARS["tstzrange"] = [rng(6, struct.pack(">q", 765432100000000),
                            struct.pack(">q", (1 << 63) - 1))]
SCALARS["daterange"] = [rng(2, struct.pack(">i", 8800), struct.pack(">i", 8802))]


def tsv(*lexemes):
    """tsvectorsend: lexeme count, then per lexeme its bytes, NUL, uint16 position count and
    per position a uint16 (weight in the top two bits, 3 = A, position in the other 14)."""
    out = struct.pack(">i", len(lexemes))
    for word, positions in lexemes:
        out += word + b"\0" + struct.pack(">H", len(positions))
        out += b"".join(struct.pack(">H", (w << 14) | p) for p, w in positions)
    return out


SCALARS["tsvector"] = [tsv((b"fox", [(3, 0)]), (b"quick", [(2, 3), (9, 1)]), (b"it's", [])),
                       tsv()]


def array(element_oid, elements):
    if not elements:
        return struct.pack(">iiI", 0, 0, element_oid)
    has_null = any(e is None for e in elements)
    out = struct.pack(">iiIii", 1, 1 if has_null else 0, element_oid, len(elements), 1)
    for e in elements:
        out += struct.pack(">i", -1) if e is None else struct.pack(">i", len(e)) + e
    return out


def md_array(element_oid, dims, elements):
    """array_send with len(dims) dimensions (lower bounds 1), elements in row-major order."""
    has_null = any(e is None for e in elements)
    out = struct.pack(">iiI", len(dims), 1 if has_null else 0, element_oid)
    out += b"".join(struct.pack(">ii", d, 1) for d in dims)
    for e in elements:
        out += struct.pack(">i", -1) if e is None else struct.pack(">i", len(e)) + e
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def decode_seeds():
    for index, t in enumerate(TYPES):
        if t == "md2_int32":
            cells = [struct.pack(">i", v) for v in range(6)]
            write("decode", t, bytes([index, 0]) + md_array(OID["int4"], [2, 3], cells))
            write("decode", f"{t}_empty", bytes([index, 0]) + array(OID["int4"], []))
        elif t == "md3_opt_string":
            cells = [b"a", None, b"bc", b"", None, b"x", b"y", b"z"]
            write("decode", t, bytes([index, 0]) + md_array(OID["text"], [2, 2, 2], cells))
        elif t.startswith("arr_"):
            elem = t[4:]
            oid = OID[ELEMENT[elem]]
            values = SCALARS[elem]
            write("decode", f"{t}_empty", bytes([index, 0]) + array(oid, []))
            elements = list(values) * 2
            if elem.startswith("opt_"):
                elements.insert(1, None)
            write("decode", f"{t}", bytes([index, 0]) + array(oid, elements))
        else:
            for k, v in enumerate(SCALARS[t]):
                write("decode", f"{t}_{k}", bytes([index, k]) + v)


CONNINFO = {
    "kv_basic": "host=localhost port=5432 dbname=app user=app password=s3cret",
    "kv_quoted": "host=/tmp password='it\\'s a secret' sslmode=verify-full sslrootcert=/x/ca.crt",
    "kv_escapes": "password=a\\ b\\\\c sslpassword = 'key pass' application_name=x",
    "kv_sslpassword": "sslcert=/c.crt sslkey=/c.key sslpassword=phrase host=h",
    "kv_empty": "password= host=h",
    "uri_basic": "postgresql://app:s3cret@db.example.com:5432/app?sslmode=require",
    "uri_encoded": "postgres://app:p%40ss%2Fw0rd@[::1]:5432/app?password=x%20y&sslpassword=k",
    "uri_hosts": "postgresql://u:pw@h1:1,h2:2/db?target_session_attrs=read-write",
    "uri_socket": "postgresql://u@/db?host=%2Ftmp%2Fsock&port=5433&password=pw",
    "uri_no_auth": "postgresql:///db",
    "dbname_only": "appdb",
}
IDENTIFIERS = {
    "plain": "email", "reserved": "user", "mixed_case": "isActive", "quote": 'a"b',
    "dollar": "a$b", "underscore": "_x", "digit_first": "1abc", "keyword_ok": "position",
    "utf8": "\u00fcmlaut", "max_len": "a" * 63, "too_long": "b" * 64, "nul": "a\0b",
    "space": "first name", "empty": "",
}
SQL = {
    "params": "select * from users where id = $1 and name = $2",
    "strings": "select '$3', \"$4\", $1 -- $9\n, /* $8 */ $2",
    "dollar_quote": "select $tag$ $7 $tag$, $$ $6 $$, $1",
    "ident_dollar": "select a$1, $2 from t$3",
    "escape_string": "select E'\\'$5', $1",
    "nested_comment": "select /* /* $4 */ $3 */ $1",
    "unterminated": "select 'abc $2",
    "big_number": "select $99999",
}


# sql_split: statements as migrations hold them.
SQL_SPLIT = {
    "migration": "create table t (a text default ';'); -- a comment; with ;\n"
                 "/* block ; */ insert into t values ('x');\n",
    "escape_string": "insert into t values (E'it\\'s; here', e'\\\\'); select 1;",
    "prefixed": "select B'101', X'ff', N'n;', U&'d\\0061t;', U&\"q;\" ;",
    "begin_atomic": "create or replace function f() returns int language sql\n"
                    "begin atomic\n  select case when true then 1 end;\n  select 2;\nend;\n"
                    "select f();",
    "procedure": "CREATE PROCEDURE p() BEGIN ATOMIC insert into t values (1); END; call p()",
    "dollar_body": "create function g() returns int as $body$ begin return 1; end $body$ "
                   "language plpgsql; select $1, a$2;",
    "parens": "select (1; 2); select ((;)); ) ; x",
    "unterminated": "select 1; select 'abc; def",
    "crlf": "-- pgorm: no-transaction\r\ncreate index concurrently i on t (a);\r\n",
    "secrets": "alter role a encrypted password E'p\\'w' valid until 'x'; "
               "create subscription s connection 'host=h password=é€' publication p; "
               "select dblink_connect('postgresql://u:pw@h/db'), 'https://x', $$password$$;",
}


def main():
    decode_seeds()
    for name, text in CONNINFO.items():
        write("conninfo", name, text.encode())
    for name, text in IDENTIFIERS.items():
        write("identifier", name, text.encode())
    for name, text in SQL.items():
        write("sql_scan", name, text.encode())
    for name, text in SQL_SPLIT.items():
        write("sql_split", name, text.encode())


if __name__ == "__main__":
    main()
