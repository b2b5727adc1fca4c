// SPDX-License-Identifier: MIT
// The non-template half of schema.hpp: creating tables in dependency order, reading the live
// schema from pg_catalog and turning differences into migration SQL.
#include "pgorm/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "pgorm/migrate.hpp"

namespace pgorm::schema {

namespace {

using pgorm::detail::quote_identifier;

// Column lists travel from the catalog joined by the unit separator (no column name holds it).
constexpr char list_separator = '\x1f';

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(list_separator, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? text.npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

// The labels of the enum type `name` (as written in SQL), in sort order; nullopt when there
// is no type of that name, and an empty vector for a type that is not an enum.
std::optional<std::vector<std::string>> live_enum_labels(connection& conn, std::string_view name) {
  const std::string type_name(name);
  auto r = conn.exec(
      "select t.typtype::text, array_to_string(array(select e.enumlabel from pg_enum e where "
      "e.enumtypid = t.oid order by e.enumsortorder), chr(31)) from pg_type t where t.oid = "
      "to_regtype($1)",
      {param::text(type_name)});
  if (r.rows() == 0) return std::nullopt;
  if (r.value(0, 0) != "e") return std::vector<std::string>{};
  return split_list(r.value(0, 1));
}

// The distinct enum types of `tables`, in the order they are first used.
std::vector<detail::enum_type_info> enums_of(std::span<const detail::table_spec> tables,
                                             const std::vector<std::size_t>& order) {
  std::vector<detail::enum_type_info> out;
  for (std::size_t i : order) {
    for (const detail::enum_type_info& e : tables[i].enums) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const detail::enum_type_info& o) {
        return o.name == e.name;
      });
      if (!seen) out.push_back(e);
    }
  }
  return out;
}

// A composite type's attributes as the server has them: name and format_type(), in order.
struct live_attribute {
  std::string name;
  std::string type;
};

struct live_type {
  bool composite = false;  // false: a type of that name that is not a composite
  std::vector<live_attribute> attributes;
};

// The type `name` and, when it is a composite, its attributes; nullopt when there is no type
// of that name.
std::optional<live_type> live_composite(connection& conn, std::string_view name) {
  const std::string type_name(name);
  auto r = conn.exec(
      "select t.typtype::text, array_to_string(array(select a.attname || chr(30) || "
      "format_type(a.atttypid, a.atttypmod) from pg_attribute a where a.attrelid = t.typrelid "
      "and a.attnum > 0 and not a.attisdropped order by a.attnum), chr(31)) from pg_type t "
      "where t.oid = to_regtype($1)",
      {param::text(type_name)});
  if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
  live_type out;
  out.composite = r.value(0, 0) == "c";
  if (!out.composite) return out;
  for (const std::string& item : split_list(r.value(0, 1))) {
    const std::size_t at = item.find('\x1e');
    out.attributes.push_back(
        {item.substr(0, at), at == std::string::npos ? "" : item.substr(at + 1)});
  }
  return out;
}

// The distinct composite types of `tables`, each after the ones nested in it.
std::vector<detail::composite_type_info> composites_of(std::span<const detail::table_spec> tables,
                                                       const std::vector<std::size_t>& order) {
  std::vector<detail::composite_type_info> out;
  for (std::size_t i : order) {
    for (const detail::composite_type_info& c : tables[i].composites) {
      const bool seen =
          std::any_of(out.begin(), out.end(),
                      [&](const detail::composite_type_info& o) { return o.name == c.name; });
      if (!seen) out.push_back(c);
    }
  }
  return out;
}

std::string join_quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += quote_identifier(n);
  }
  return out;
}

// Canonical spelling of a default or an index predicate for comparison: the server deparses
// `deleted_at is null` as `(deleted_at IS NULL)` and 'member' as 'member'::text, so compare
// without whitespace, parentheses and casts, and with keywords in lower case (quoted
// identifiers keep their case).
std::string normalize_expression(std::string_view text) {
  std::string out;
  bool in_single = false;
  bool in_double = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_single) {
      out += c;
      if (c == '\'') in_single = false;
      continue;
    }
    if (in_double) {
      out += c;
      if (c == '"') in_double = false;
      continue;
    }
    if (c == '\'') {
      in_single = true;
      out += c;
    } else if (c == '"') {
      in_double = true;
      out += c;
    } else if (c == ':' && i + 1 < text.size() && text[i + 1] == ':') {
      // A cast: skip the type name (letters, digits, _, spaces inside multi-word names, []).
      i += 2;
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) != 0 ||
                                 text[i] == '_' || text[i] == '[' || text[i] == ']' ||
                                 text[i] == ' ' || text[i] == '.' || text[i] == '"')) {
        ++i;
      }
      --i;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == '(' || c == ')') {
      // skipped; but keep "f()" distinguishable from "f": mark calls
      if (c == '(' && i + 1 < text.size() && text[i + 1] == ')') out += "()";
      if (c == '(' && i + 1 < text.size() && text[i + 1] == ')') ++i;
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  // '-1'::integer deparses with quotes: a quoted number is the number.
  if (out.size() >= 2 && out.front() == '\'' && out.back() == '\'') {
    const std::string inner = out.substr(1, out.size() - 2);
    const bool numeric = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '.';
    });
    if (numeric) out = inner;
  }
  return out;
}

char action_code(fk_action a) {
  switch (a) {
    case fk_action::no_action:
      return 'a';
    case fk_action::restrict:
      return 'r';
    case fk_action::cascade:
      return 'c';
    case fk_action::set_null:
      return 'n';
    case fk_action::set_default:
      return 'd';
  }
  return 'a';
}

// ---- the live schema ---------------------------------------------------------------------------

struct live_column {
  std::string name;
  std::string type;  // format_type(atttypid, atttypmod)
  bool not_null = false;
  std::string default_sql;  // pg_get_expr, "" for none
  char identity = '\0';     // 'a', 'd' or none
};

struct live_constraint {
  std::string name;
  char type = '\0';        // p, u, f, c
  std::string expression;  // a check's condition (pg_get_expr), "" for the others
  std::vector<std::string> columns;
  std::int64_t ref_oid = 0;
  std::vector<std::string> ref_columns;
  char on_delete = 'a';
  char on_update = 'a';
  bool matched = false;
};

struct live_index {
  std::string name;
  bool unique = false;
  std::string method;
  std::vector<std::string> columns;
  std::string predicate;
  bool matched = false;
};

struct live_table {
  std::int64_t oid = 0;
  std::string schema;
  std::string name;
  std::vector<live_column> columns;
  std::vector<live_constraint> constraints;
  std::vector<live_index> indexes;
};

std::optional<std::int64_t> regclass(connection& conn, std::string_view qualified_name) {
  const std::string name(qualified_name);
  auto r = conn.exec("select to_regclass($1)::oid::int8", {param::text(name)});
  if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
  return std::stoll(std::string(r.value(0, 0)));
}

std::optional<live_table> read_table(connection& conn, std::string_view qualified_name) {
  const auto oid = regclass(conn, qualified_name);
  if (!oid) return std::nullopt;
  live_table t;
  t.oid = *oid;
  const std::string oid_text = std::to_string(*oid);
  {
    auto r = conn.exec(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = "
        "c.relnamespace where c.oid = $1::oid",
        {param::text(oid_text)});
    t.schema = r.value(0, 0);
    t.name = r.value(0, 1);
  }
  {
    auto r = conn.exec(
        "select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text "
        "from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = "
        "a.attnum where a.attrelid = $1::oid and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        {param::text(oid_text)});
    for (int i = 0; i < r.rows(); ++i) {
      const std::string_view ident = r.value(i, 4);
      t.columns.push_back({std::string(r.value(i, 0)), std::string(r.value(i, 1)),
                           r.value(i, 2) == "t", std::string(r.value(i, 3)),
                           ident.empty() ? '\0' : ident.front()});
    }
  }
  {
    auto r = conn.exec(
        "select con.conname, con.contype::text, "
        "array_to_string(array(select a.attname from unnest(con.conkey) with ordinality k(n, o) "
        "join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.o), "
        "chr(31)), con.confrelid::int8, "
        "coalesce(array_to_string(array(select a.attname from unnest(con.confkey) with "
        "ordinality k(n, o) join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n "
        "order by k.o), chr(31)), ''), con.confdeltype::text, con.confupdtype::text, "
        "case when con.contype = 'c' then pg_get_expr(con.conbin, con.conrelid) else '' end "
        "from pg_constraint con where con.conrelid = $1::oid and con.contype in ('p', 'u', 'f', "
        "'c') order by con.conname",
        {param::text(oid_text)});
    for (int i = 0; i < r.rows(); ++i) {
      live_constraint c;
      c.name = r.value(i, 0);
      c.type = r.value(i, 1).front();
      c.columns = split_list(r.value(i, 2));
      c.ref_oid = std::stoll(std::string(r.value(i, 3)));
      c.ref_columns = split_list(r.value(i, 4));
      if (!r.value(i, 5).empty()) c.on_delete = r.value(i, 5).front();
      if (!r.value(i, 6).empty()) c.on_update = r.value(i, 6).front();
      c.expression = r.value(i, 7);
      t.constraints.push_back(std::move(c));
    }
  }
  {
    // Indexes that back a primary key, unique or exclusion constraint belong to the
    // constraint; only the others are "indexes" here.
    auto r = conn.exec(
        "select ic.relname, i.indisunique, am.amname, "
        "array_to_string(array(select coalesce(a.attname, '') from unnest(i.indkey::int2[]) "
        "with ordinality k(n, o) left join pg_attribute a on a.attrelid = i.indrelid and "
        "a.attnum = k.n where k.o <= i.indnkeyatts order by k.o), chr(31)), "
        "coalesce(pg_get_expr(i.indpred, i.indrelid), '') "
        "from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = "
        "ic.relam where i.indrelid = $1::oid and not exists (select 1 from pg_constraint c "
        "where c.conindid = i.indexrelid and c.conrelid = i.indrelid and c.contype in ('p', "
        "'u', 'x')) order by ic.relname",
        {param::text(oid_text)});
    for (int i = 0; i < r.rows(); ++i) {
      live_index ix;
      ix.name = r.value(i, 0);
      ix.unique = r.value(i, 1) == "t";
      ix.method = r.value(i, 2);
      ix.columns = split_list(r.value(i, 3));
      ix.predicate = r.value(i, 4);
      t.indexes.push_back(std::move(ix));
    }
  }
  return t;
}

// ---- building the changes ----------------------------------------------------------------------

// The order in which the statements of the changes can run.
int phase(change_kind kind) {
  switch (kind) {
    case change_kind::create_enum:
    case change_kind::add_enum_value:
    case change_kind::create_composite:
    case change_kind::drop_attribute:
    case change_kind::add_attribute:
    case change_kind::alter_attribute:
      return -1;
    case change_kind::drop_foreign_key:
      return 0;
    case change_kind::drop_unique:
    case change_kind::drop_check:
    case change_kind::drop_primary_key:
    case change_kind::drop_index:
      return 1;
    case change_kind::create_table:
      return 2;
    case change_kind::add_column:
      return 3;
    case change_kind::alter_type:
    case change_kind::set_not_null:
    case change_kind::drop_not_null:
    case change_kind::set_default:
    case change_kind::drop_default:
    case change_kind::add_identity:
    case change_kind::drop_identity:
      return 4;
    case change_kind::add_primary_key:
    case change_kind::add_unique:
    case change_kind::add_check:
      return 5;
    case change_kind::add_index:
      return 6;
    case change_kind::add_foreign_key:
      return 7;
    case change_kind::drop_column:
      return 8;
  }
  return 9;
}

class differ {
 public:
  explicit differ(connection& conn) : conn_(conn) {}

  // The server's spelling of a column's type, as format_type(atttypid, atttypmod) gives it for
  // the live column: "character varying(32)", "timestamp(3) with time zone", "bigint".
  // to_regtype() drops a type modifier, so a declared type's is passed on its own, with the
  // base type ("varchar(32)[]" -> "varchar[]").
  std::string canonical_type(const column_info& c) {
    const std::string key(c.sql_type);
    if (auto it = types_.find(key); it != types_.end()) return it->second;
    std::string base = key;
    if (c.type_modifier >= 0) {
      const std::size_t open = base.find('(');
      const std::size_t close = base.find(')', open);
      if (open != std::string::npos && close != std::string::npos) {
        base.erase(open, close - open + 1);
      }
    }
    const std::string modifier = c.type_modifier >= 0 ? std::to_string(c.type_modifier) : "";
    auto r = conn_.exec("select coalesce(format_type(to_regtype($1), nullif($2, '')::int4), $3)",
                        {param::text(base), param::text(modifier), param::text(key)});
    std::string canonical(r.value(0, 0));
    types_.emplace(key, canonical);
    return canonical;
  }

  // A missing enum type is created; labels the struct has and the type lacks are added, each
  // after its predecessor, so the type's order follows the declaration. Labels the type has
  // beyond the struct's are left alone: PostgreSQL cannot drop an enum value.
  void enum_type(const detail::enum_type_info& e, std::vector<schema_change>& out) {
    const std::string name(e.name);
    const auto live = live_enum_labels(conn_, e.name);
    if (!live) {
      std::string labels;
      for (std::string_view l : e.labels) labels += (labels.empty() ? "" : ", ") + quote_literal(l);
      out.push_back({change_kind::create_enum,
                     name,
                     {},
                     fmt::format("{}: new enum type ({})", name, labels),
                     detail::create_enum_sql(e.name, e.labels),
                     false});
      return;
    }
    if (live->empty()) return;  // not an enum: the columns' type comparison reports it
    std::vector<std::string> have = *live;
    for (std::size_t i = 0; i != e.labels.size(); ++i) {
      const std::string label(e.labels[i]);
      if (std::find(have.begin(), have.end(), label) != have.end()) continue;
      std::string where;
      if (i > 0) {
        where = " AFTER " + quote_literal(e.labels[i - 1]);
      } else if (!have.empty()) {
        where = " BEFORE " + quote_literal(have.front());
      }
      out.push_back({change_kind::add_enum_value, name, label,
                     fmt::format("{}: new label {}", name, quote_literal(label)),
                     fmt::format("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{};", name,
                                 quote_literal(label), where),
                     false});
      have.insert(i > 0 ? std::find(have.begin(), have.end(), std::string(e.labels[i - 1])) + 1
                        : have.begin(),
                  label);
    }
  }

  // The server's spelling of a type named without a modifier, as format_type() gives it.
  std::string canonical_type_name(std::string_view sql_type) {
    const std::string key = "\x1f" + std::string(sql_type);  // apart from the columns' keys
    if (auto it = types_.find(key); it != types_.end()) return it->second;
    const std::string text(sql_type);
    auto r =
        conn_.exec("select coalesce(format_type(to_regtype($1), null), $1)", {param::text(text)});
    std::string canonical(r.value(0, 0));
    types_.emplace(key, canonical);
    return canonical;
  }

  // A missing composite type is created. An existing one is compared attribute by attribute,
  // by position: pgorm reads a record's fields in order. Where the names first differ, the
  // live attributes from there on are dropped (destructive) and the struct's added in order;
  // before that, an attribute of another type is altered.
  void composite_type(const detail::composite_type_info& c, std::vector<schema_change>& out) {
    const std::string name(c.name);
    const auto live = live_composite(conn_, c.name);
    if (!live) {
      std::string attributes;
      for (const auto& a : c.attributes) {
        attributes += fmt::format("{}{} {}", attributes.empty() ? "" : ", ", a.name, a.sql_type);
      }
      out.push_back({change_kind::create_composite,
                     name,
                     {},
                     fmt::format("{}: new composite type ({})", name, attributes),
                     detail::create_composite_sql(c),
                     false});
      return;
    }
    if (!live->composite) return;  // the columns' type comparison reports it
    const std::vector<live_attribute>* have = &live->attributes;
    std::size_t same = 0;
    while (same < c.attributes.size() && same < have->size() &&
           (*have)[same].name == c.attributes[same].name) {
      const auto& want = c.attributes[same];
      const std::string type = canonical_type_name(want.sql_type);
      if (type != (*have)[same].type) {
        out.push_back({change_kind::alter_attribute, name, std::string(want.name),
                       fmt::format("{}.{}: {} -> {}", name, want.name, (*have)[same].type, type),
                       fmt::format("ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {};", name,
                                   quote_identifier(want.name), want.sql_type),
                       false});
      }
      ++same;
    }
    for (std::size_t i = same; i < have->size(); ++i) {
      const std::string& attribute = (*have)[i].name;
      const bool wanted = std::any_of(c.attributes.begin(), c.attributes.end(),
                                      [&](const auto& a) { return a.name == attribute; });
      out.push_back(
          {change_kind::drop_attribute, name, attribute,
           fmt::format(
               "{}.{}: {}", name, attribute,
               wanted ? "out of the struct's order: dropped and added again" : "no struct field"),
           fmt::format("ALTER TYPE {} DROP ATTRIBUTE {};", name, quote_identifier(attribute)),
           true});
    }
    for (std::size_t i = same; i < c.attributes.size(); ++i) {
      const auto& a = c.attributes[i];
      out.push_back({change_kind::add_attribute, name, std::string(a.name),
                     fmt::format("{}.{}: new attribute ({})", name, a.name, a.sql_type),
                     fmt::format("ALTER TYPE {} ADD ATTRIBUTE {} {};", name,
                                 quote_identifier(a.name), a.sql_type),
                     false});
    }
  }

  void table(const detail::table_spec& spec, std::vector<schema_change>& out) {
    auto live = read_table(conn_, spec.qualified_name);
    const std::string tname(spec.qualified_name);
    if (!live) {
      std::string sql(spec.create_table);
      if (!spec.create_indexes.empty()) {
        sql += '\n';
        sql += spec.create_indexes;
      }
      out.push_back({change_kind::create_table,
                     tname,
                     {},
                     fmt::format("{}: new table", tname),
                     std::move(sql),
                     false});
      return;
    }
    columns(spec, *live, out);
    constraints(spec, *live, out);
  }

 private:
  static std::string column_definition(const column_info& c) {
    std::string def = fmt::format("{} {}", c.sql_name, c.sql_type);
    if (!c.nullable && !c.is_identity()) def += " NOT NULL";
    if (c.has_default()) def += fmt::format(" DEFAULT {}", c.default_sql);
    if (c.is_identity()) def += fmt::format(" {}", to_sql(c.identity));
    return def;
  }

  void columns(const detail::table_spec& spec, const live_table& live,
               std::vector<schema_change>& out) {
    const std::string tname(spec.qualified_name);
    for (const column_info& c : spec.columns) {
      const auto it = std::find_if(live.columns.begin(), live.columns.end(),
                                   [&](const live_column& l) { return l.name == c.name; });
      const std::string object(c.name);
      if (it == live.columns.end()) {
        std::string sql = fmt::format("ALTER TABLE {} ADD COLUMN {};", tname, column_definition(c));
        out.push_back({change_kind::add_column, tname, object,
                       fmt::format("{}.{}: new column {}", tname, c.sql_name, c.sql_type),
                       std::move(sql), false});
        continue;
      }
      const live_column& l = *it;
      const std::string want_type = canonical_type(c);
      if (want_type != l.type) {
        out.push_back({change_kind::alter_type, tname, object,
                       fmt::format("{}.{}: type {} -> {}", tname, c.sql_name, l.type, want_type),
                       fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{};", tname,
                                   c.sql_name, c.sql_type, c.sql_name, c.sql_type),
                       false});
      }
      const bool want_not_null = !c.nullable;
      if (want_not_null && !l.not_null) {
        out.push_back(
            {change_kind::set_not_null, tname, object,
             fmt::format("{}.{}: NULL -> NOT NULL (fails while NULLs remain)", tname, c.sql_name),
             fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL;", tname, c.sql_name),
             false});
      } else if (!want_not_null && l.not_null && l.identity == '\0') {
        out.push_back(
            {change_kind::drop_not_null, tname, object,
             fmt::format("{}.{}: NOT NULL -> NULL", tname, c.sql_name),
             fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL;", tname, c.sql_name),
             false});
      }
      const char want_identity = c.identity == identity_kind::always       ? 'a'
                                 : c.identity == identity_kind::by_default ? 'd'
                                                                           : '\0';
      if (want_identity != l.identity) {
        if (want_identity == '\0') {
          out.push_back(
              {change_kind::drop_identity, tname, object,
               fmt::format("{}.{}: drop identity", tname, c.sql_name),
               fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP IDENTITY;", tname, c.sql_name),
               false});
        } else if (l.identity == '\0') {
          out.push_back({change_kind::add_identity, tname, object,
                         fmt::format("{}.{}: add {}", tname, c.sql_name, to_sql(c.identity)),
                         fmt::format("ALTER TABLE {} ALTER COLUMN {} ADD {};", tname, c.sql_name,
                                     to_sql(c.identity)),
                         false});
        } else {
          out.push_back({change_kind::add_identity, tname, object,
                         fmt::format("{}.{}: {}", tname, c.sql_name, to_sql(c.identity)),
                         fmt::format("ALTER TABLE {} ALTER COLUMN {} SET GENERATED {};", tname,
                                     c.sql_name, want_identity == 'a' ? "ALWAYS" : "BY DEFAULT"),
                         false});
        }
      }
      if (c.has_default()) {
        if (normalize_expression(c.default_sql) != normalize_expression(l.default_sql)) {
          out.push_back(
              {change_kind::set_default, tname, object,
               fmt::format("{}.{}: default {} -> {}", tname, c.sql_name,
                           l.default_sql.empty() ? "(none)" : l.default_sql, c.default_sql),
               fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {};", tname, c.sql_name,
                           c.default_sql),
               false});
        }
      } else if (!l.default_sql.empty() && l.identity == '\0') {
        out.push_back(
            {change_kind::drop_default, tname, object,
             fmt::format("{}.{}: drop default {}", tname, c.sql_name, l.default_sql),
             fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;", tname, c.sql_name),
             false});
      }
    }
    for (const live_column& l : live.columns) {
      const bool wanted = std::any_of(spec.columns.begin(), spec.columns.end(),
                                      [&](const column_info& c) { return c.name == l.name; });
      if (wanted) continue;
      out.push_back({change_kind::drop_column, tname, l.name,
                     fmt::format("{}.{}: column not in the struct; dropping it loses its data",
                                 tname, quote_identifier(l.name)),
                     fmt::format("ALTER TABLE {} DROP COLUMN {};", tname, quote_identifier(l.name)),
                     true});
    }
  }

  static std::vector<std::string> names_of(const detail::table_spec& spec,
                                           std::span<const std::size_t> indices) {
    std::vector<std::string> names;
    for (std::size_t i : indices) names.emplace_back(spec.columns[i].name);
    return names;
  }

  static std::string constraint_prefix(std::string_view sql_name) {
    return sql_name.empty() ? std::string() : fmt::format("CONSTRAINT {} ", sql_name);
  }

  // The declared check conditions as the server stores them, deparsed from a temporary copy
  // of the table's columns inside a transaction (or savepoint) that is rolled back. A
  // condition the server rejects keeps its text as written (adding it will report why).
  std::vector<std::string> server_form_of_checks(const std::string& tname,
                                                 std::span<const check_info> checks) {
    std::vector<std::string> out;
    for (const check_info& c : checks) out.emplace_back(c.expression);
    if (checks.empty()) return out;
    const bool nested = conn_.status() == transaction_status::in_transaction;
    const auto undo = [&]() noexcept {
      try {
        conn_.exec(nested ? "ROLLBACK TO SAVEPOINT pgorm_check_probe; RELEASE SAVEPOINT "
                            "pgorm_check_probe"
                          : "ROLLBACK");
      } catch (...) {  // the connection broke: the next statement reports it
      }
    };
    conn_.exec(nested ? "SAVEPOINT pgorm_check_probe" : "BEGIN");
    try {
      conn_.exec(fmt::format("CREATE TEMP TABLE pgorm_check_probe (LIKE {})", tname));
      for (std::size_t i = 0; i != checks.size(); ++i) {
        conn_.exec("SAVEPOINT pgorm_check_one");
        try {
          conn_.exec(fmt::format("ALTER TABLE pgorm_check_probe ADD CONSTRAINT c{} CHECK ({})", i,
                                 checks[i].expression));
          conn_.exec("RELEASE SAVEPOINT pgorm_check_one");
        } catch (const sql_error&) {
          conn_.exec("ROLLBACK TO SAVEPOINT pgorm_check_one; RELEASE SAVEPOINT pgorm_check_one");
        }
      }
      auto r = conn_.exec(
          "select substr(conname, 2)::int, pg_get_expr(conbin, conrelid) from pg_constraint "
          "where conrelid = 'pgorm_check_probe'::regclass and contype = 'c'");
      for (int i = 0; i < r.rows(); ++i) {
        const auto at = static_cast<std::size_t>(std::stoul(std::string(r.value(i, 0))));
        if (at < out.size()) out[at] = r.value(i, 1);
      }
    } catch (const sql_error&) {
      // The copy could not be made: compare the conditions as written.
    }
    undo();
    return out;
  }

  // The live constraint of `type` that a declared one stands for, marked matched: the one
  // named `name`, or when `name` is empty the first unmatched one for which `same_shape` holds.
  template <class SameShape>
  static live_constraint* claim(live_table& live, char type, std::string_view name,
                                SameShape same_shape) {
    for (auto& l : live.constraints) {
      if (l.type != type || l.matched) continue;
      if (name.empty() ? same_shape(l) : l.name == name) {
        l.matched = true;
        return &l;
      }
    }
    return nullptr;
  }

  // A declared constraint against the live one it stands for (claim): kept when `same` holds
  // for it, else that one is dropped (`drop`) and `add` adds the declared one.
  template <class Same>
  void reconcile(live_table& live, const std::string& tname, char type, std::string_view name,
                 Same same, change_kind drop, schema_change add, std::vector<schema_change>& out) {
    if (live_constraint* match = claim(live, type, name, same); match != nullptr) {
      if (same(*match)) return;
      drop_constraint(tname, *match, drop, out);
    }
    out.push_back(std::move(add));
  }

  void drop_constraint(const std::string& tname, const live_constraint& l, change_kind kind,
                       std::vector<schema_change>& out) {
    out.push_back(
        {kind, tname, l.name, fmt::format("{}: {} {} not declared", tname, to_string(kind), l.name),
         fmt::format("ALTER TABLE {} DROP CONSTRAINT {};", tname, quote_identifier(l.name)),
         false});
  }

  void constraints(const detail::table_spec& spec, live_table& live,
                   std::vector<schema_change>& out) {
    const std::string tname(spec.qualified_name);
    // Primary key.
    {
      const auto want = names_of(spec, spec.primary_key);
      auto it = std::find_if(live.constraints.begin(), live.constraints.end(),
                             [](const live_constraint& c) { return c.type == 'p'; });
      const bool same = it != live.constraints.end() && it->columns == want;
      if (it != live.constraints.end()) it->matched = true;
      if (!same) {
        if (it != live.constraints.end()) {
          drop_constraint(tname, *it, change_kind::drop_primary_key, out);
        }
        if (!want.empty()) {
          std::string name_sql;
          if (!spec.primary_key_name.empty()) {
            name_sql = "CONSTRAINT " + quote_identifier(spec.primary_key_name) + " ";
          }
          out.push_back({change_kind::add_primary_key, tname, std::string(spec.primary_key_name),
                         fmt::format("{}: primary key ({})", tname, join_quoted(want)),
                         fmt::format("ALTER TABLE {} ADD {}PRIMARY KEY ({});", tname, name_sql,
                                     join_quoted(want)),
                         false});
        }
      }
    }
    // Unique constraints: by name when named, else by columns.
    for (const unique_info& u : spec.uniques) {
      const auto want = names_of(spec, u.column_indices);
      reconcile(
          live, tname, 'u', u.name, [&](const live_constraint& l) { return l.columns == want; },
          change_kind::drop_unique,
          {change_kind::add_unique, tname, std::string(u.name),
           fmt::format("{}: unique ({})", tname, u.columns),
           fmt::format("ALTER TABLE {} ADD {}UNIQUE ({});", tname, constraint_prefix(u.sql_name),
                       u.columns),
           false},
          out);
    }
    // Foreign keys: by name when named, else by columns and referenced table and columns.
    for (const foreign_key_info& f : spec.foreign_keys) {
      const auto want = names_of(spec, f.column_indices);
      const auto ref_oid = regclass(conn_, f.references_table);
      std::vector<std::string> want_ref;
      for (const auto& part : split_sql_list(f.references_columns)) want_ref.push_back(part);
      live_constraint* match = claim(live, 'f', f.name, [&](const live_constraint& l) {
        return ref_oid && l.ref_oid == *ref_oid && l.columns == want && l.ref_columns == want_ref;
      });
      if (match != nullptr) {
        const bool same = ref_oid && match->ref_oid == *ref_oid && match->columns == want &&
                          match->ref_columns == want_ref &&
                          match->on_delete == action_code(f.on_delete) &&
                          match->on_update == action_code(f.on_update);
        if (same) continue;
        drop_constraint(tname, *match, change_kind::drop_foreign_key, out);
      }
      std::string sql = fmt::format("ALTER TABLE {} ADD {}FOREIGN KEY ({}) REFERENCES {} ({})",
                                    tname, constraint_prefix(f.sql_name), f.columns,
                                    f.references_table, f.references_columns);
      if (f.on_delete != fk_action::no_action)
        sql += fmt::format(" ON DELETE {}", to_sql(f.on_delete));
      if (f.on_update != fk_action::no_action)
        sql += fmt::format(" ON UPDATE {}", to_sql(f.on_update));
      sql += ';';
      out.push_back({change_kind::add_foreign_key, tname, std::string(f.name),
                     fmt::format("{}: foreign key ({}) -> {} ({})", tname, f.columns,
                                 f.references_table, f.references_columns),
                     std::move(sql), false});
    }
    // Checks: by name when named, else by condition. Conditions compare in the server's own
    // spelling (`x in ('a', 'b')` is stored as `(x = ANY (ARRAY['a'::text, 'b'::text]))`).
    const std::vector<std::string> wanted = server_form_of_checks(tname, spec.checks);
    for (std::size_t ci = 0; ci != spec.checks.size(); ++ci) {
      const check_info& c = spec.checks[ci];
      const std::string want = normalize_expression(wanted[ci]);
      reconcile(
          live, tname, 'c', c.name,
          [&](const live_constraint& l) { return normalize_expression(l.expression) == want; },
          change_kind::drop_check,
          {change_kind::add_check, tname, std::string(c.name),
           fmt::format("{}: check ({})", tname, c.expression),
           fmt::format("ALTER TABLE {} ADD {}CHECK ({});", tname, constraint_prefix(c.sql_name),
                       c.expression),
           false},
          out);
    }
    for (const auto& l : live.constraints) {
      if (l.matched) continue;
      drop_constraint(tname, l,
                      l.type == 'f'   ? change_kind::drop_foreign_key
                      : l.type == 'u' ? change_kind::drop_unique
                      : l.type == 'c' ? change_kind::drop_check
                                      : change_kind::drop_primary_key,
                      out);
    }
    // Indexes: by name when named, else by columns, uniqueness, method and predicate.
    for (const index_info& ix : spec.indexes) {
      const auto want = names_of(spec, ix.column_indices);
      const std::string method = ix.method.empty() ? "btree" : std::string(ix.method);
      const auto same_shape = [&](const live_index& l) {
        return l.columns == want && l.unique == ix.unique && l.method == method &&
               normalize_expression(l.predicate) == normalize_expression(ix.where);
      };
      live_index* match = nullptr;
      for (auto& l : live.indexes) {
        if (l.matched) continue;
        if (ix.name.empty() ? same_shape(l) : l.name == ix.name) {
          match = &l;
          break;
        }
      }
      if (match != nullptr) {
        match->matched = true;
        if (same_shape(*match)) continue;
        out.push_back(drop_index(tname, live, *match));
      }
      std::string sql;
      sql_sink sink{sql};
      pgorm::schema::detail::write_create_index(spec.qualified_name, ix, false, false, sink);
      out.push_back(
          {change_kind::add_index, tname, std::string(ix.name),
           fmt::format("{}: {}index ({}){}", tname, ix.unique ? "unique " : "", ix.columns,
                       ix.where.empty() ? "" : " where " + std::string(ix.where)),
           std::move(sql), false});
    }
    for (const auto& l : live.indexes) {
      if (!l.matched) out.push_back(drop_index(tname, live, l));
    }
  }

  struct sql_sink {
    std::string& text;
    void append(char c) { text.push_back(c); }
    void append(std::string_view s) { text.append(s); }
  };

  static schema_change drop_index(const std::string& tname, const live_table& live,
                                  const live_index& l) {
    return {
        change_kind::drop_index,
        tname,
        l.name,
        fmt::format("{}: index {} not declared", tname, l.name),
        fmt::format("DROP INDEX {}.{};", quote_identifier(live.schema), quote_identifier(l.name)),
        false};
  }

  // "a, \"B\"" -> {"a", "B"}: the referenced columns of a foreign_key_info, unquoted.
  static std::vector<std::string> split_sql_list(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            current += '"';
            ++i;
          } else {
            quoted = false;
          }
        } else {
          current += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.push_back(std::move(current));
        current.clear();
      } else if (c != ' ') {
        current += c;
      }
    }
    if (!current.empty() || !out.empty()) out.push_back(std::move(current));
    return out;
  }

  connection& conn_;
  std::map<std::string, std::string> types_;
};

}  // namespace

std::string_view to_string(change_kind kind) noexcept {
  switch (kind) {
    case change_kind::create_table:
      return "create_table";
    case change_kind::add_column:
      return "add_column";
    case change_kind::drop_column:
      return "drop_column";
    case change_kind::alter_type:
      return "alter_type";
    case change_kind::set_not_null:
      return "set_not_null";
    case change_kind::drop_not_null:
      return "drop_not_null";
    case change_kind::set_default:
      return "set_default";
    case change_kind::drop_default:
      return "drop_default";
    case change_kind::add_identity:
      return "add_identity";
    case change_kind::drop_identity:
      return "drop_identity";
    case change_kind::add_primary_key:
      return "add_primary_key";
    case change_kind::drop_primary_key:
      return "drop_primary_key";
    case change_kind::add_unique:
      return "add_unique";
    case change_kind::drop_unique:
      return "drop_unique";
    case change_kind::add_index:
      return "add_index";
    case change_kind::drop_index:
      return "drop_index";
    case change_kind::add_foreign_key:
      return "add_foreign_key";
    case change_kind::drop_foreign_key:
      return "drop_foreign_key";
    case change_kind::add_check:
      return "add_check";
    case change_kind::drop_check:
      return "drop_check";
    case change_kind::create_enum:
      return "create_enum";
    case change_kind::add_enum_value:
      return "add_enum_value";
    case change_kind::create_composite:
      return "create_composite";
    case change_kind::add_attribute:
      return "add_attribute";
    case change_kind::drop_attribute:
      return "drop_attribute";
    case change_kind::alter_attribute:
      return "alter_attribute";
  }
  return "unknown";
}

std::string create_schema(std::string_view name, create_schema_options options) {
  return fmt::format("CREATE SCHEMA {}{};", options.if_not_exists ? "IF NOT EXISTS " : "",
                     quote_identifier(name));
}

bool diff_result::destructive() const noexcept {
  return std::any_of(changes.begin(), changes.end(),
                     [](const schema_change& c) { return c.destructive; });
}

std::string diff_result::sql() const {
  if (changes.empty()) return {};
  std::string out =
      fmt::format("-- generated by pgorm::schema::diff: {} change(s){}\n", changes.size(),
                  destructive() ? "; REVIEW: some are destructive" : "");
  for (const schema_change& c : changes) {
    out += '\n';
    if (c.destructive) out += fmt::format("-- DESTRUCTIVE: {}\n", c.description);
    out += fmt::format("-- {}: {}\n", to_string(c.kind), c.description);
    out += c.sql;
    out += '\n';
  }
  return out;
}

std::string diff_result::report() const {
  if (changes.empty()) return "in sync: the database matches the structs\n";
  std::string out =
      fmt::format("{} difference(s) between the structs and the database:\n", changes.size());
  for (const schema_change& c : changes) {
    out += fmt::format("  {}{}: {}\n", c.destructive ? "[destructive] " : "", to_string(c.kind),
                       c.description);
  }
  return out;
}

std::filesystem::path diff_result::write_migration(const std::filesystem::path& dir,
                                                   std::string_view name) const {
  if (changes.empty()) {
    throw usage_error(
        "pgorm: write_migration(): the database matches the structs; there is "
        "nothing to write");
  }
  return migrate::create(dir, name, {.timestamp = false, .sql = sql()});
}

namespace detail {

std::vector<std::size_t> dependency_order(std::span<const table_spec> tables) {
  std::vector<std::size_t> order;
  std::vector<bool> placed(tables.size(), false);
  // Repeatedly place the first table whose references are all placed (or not in the list).
  while (order.size() < tables.size()) {
    bool progress = false;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (const foreign_key_info& f : tables[i].foreign_keys) {
        for (std::size_t j = 0; j < tables.size(); ++j) {
          if (j != i && !placed[j] && tables[j].qualified_name == f.references_table) {
            ready = false;
          }
        }
      }
      if (ready) {
        placed[i] = true;
        order.push_back(i);
        progress = true;
        break;
      }
    }
    if (!progress) {  // a cycle: keep the given order for the rest
      for (std::size_t i = 0; i < tables.size(); ++i) {
        if (!placed[i]) {
          placed[i] = true;
          order.push_back(i);
        }
      }
    }
  }
  return order;
}

std::string create_enum_sql(std::string_view name, std::span<const std::string_view> labels) {
  std::string sql = fmt::format("CREATE TYPE {} AS ENUM (", name);
  for (std::size_t i = 0; i != labels.size(); ++i) {
    if (i != 0) sql += ", ";
    sql += quote_literal(labels[i]);
  }
  sql += ");";
  return sql;
}

std::string create_composite_sql(const composite_type_info& type) {
  std::string sql = fmt::format("CREATE TYPE {} AS (", type.name);
  for (std::size_t i = 0; i != type.attributes.size(); ++i) {
    if (i != 0) sql += ", ";
    sql += quote_identifier(type.attributes[i].name);
    sql += ' ';
    sql += type.attributes[i].sql_type;
  }
  sql += ");";
  return sql;
}

void create_tables(connection& conn, std::span<const table_spec> tables,
                   const create_table_options& options) {
  const auto order = dependency_order(tables);
  conn.transaction([&](pgorm::transaction& tx) {
    for (const enum_type_info& e : enums_of(tables, order)) {
      if (!live_enum_labels(tx.conn(), e.name)) tx.exec(create_enum_sql(e.name, e.labels));
    }
    for (const composite_type_info& c : composites_of(tables, order)) {
      if (!live_composite(tx.conn(), c.name)) tx.exec(create_composite_sql(c));
    }
    for (std::size_t i : order) {
      const table_spec& t = tables[i];
      if (!t.schema.empty()) tx.exec(create_schema(t.schema, {.if_not_exists = true}));
      if (options.if_not_exists && regclass(tx.conn(), t.qualified_name)) continue;
      tx.exec(t.create_table);
      if (!t.create_indexes.empty()) tx.exec(t.create_indexes);
    }
  });
}

std::string truncate_sql(std::span<const std::string_view> qualified_names) {
  std::string sql = "TRUNCATE TABLE ";
  for (std::size_t i = 0; i < qualified_names.size(); ++i) {
    if (i != 0) sql += ", ";
    sql += qualified_names[i];
  }
  sql += " RESTART IDENTITY CASCADE;";
  return sql;
}

diff_result diff_tables(connection& conn, std::span<const table_spec> tables) {
  differ d(conn);
  std::vector<schema_change> changes;
  const auto order = dependency_order(tables);
  for (const enum_type_info& e : enums_of(tables, order)) d.enum_type(e, changes);
  for (const composite_type_info& c : composites_of(tables, order)) d.composite_type(c, changes);
  for (std::size_t i : order) d.table(tables[i], changes);
  std::stable_sort(
      changes.begin(), changes.end(),
      [](const schema_change& a, const schema_change& b) { return phase(a.kind) < phase(b.kind); });
  return {std::move(changes)};
}

}  // namespace detail

}  // namespace pgorm::schema
