//! The SQLite and PostgreSQL migrations must define the same schema.
//!
//! Both sets are applied to fresh databases and each database is described
//! from its catalog: tables, columns (type family, nullability, default),
//! primary keys, unique constraints, foreign keys, check constraints and
//! indexes. The two descriptions are normalised so that dialect spellings
//! compare equal, then compared; a failure lists every fact found on one side
//! only.
//!
//! Types are compared by family, with the width where both dialects state
//! it meaningfully:
//! * SMALLINT, INTEGER and BIGINT are compared with their width: SQLite
//!   stores every integer in up to 64 bits, but the declared width is what
//!   PostgreSQL enforces and what its driver decodes (`i16`, `i32`, `i64`).
//!   The exception is a table's single-column integer primary key: on SQLite
//!   it must be spelled `INTEGER PRIMARY KEY` to be the rowid (64 bits
//!   whatever the spelling), so only its family is compared.
//! * BOOLEAN on both sides is a boolean; an SQLite INTEGER standing for a
//!   PostgreSQL BOOLEAN is a difference (it would decode differently).
//! * SQLite REAL is an 8-byte float, PostgreSQL DOUBLE PRECISION; PostgreSQL
//!   REAL (4 bytes) is a different type.
//! * TEXT/VARCHAR are text, BLOB/BYTEA bytes.
//!
//! SQLite's quirks count as what they are: a PRIMARY KEY column that is
//! not the rowid and not declared NOT NULL accepts NULL there, so it is
//! nullable here too.
//!
//! The comparison needs both databases, so it runs in the PostgreSQL pass
//! of the test script (`PERCH_TEST_POSTGRES_URL` set). The tests of the
//! comparison itself run on SQLite alone, in every pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use perch_db::testing::{self, TestDatabase};
use perch_db::{ConnectOptions, Db};
use sqlx::{Connection, PgConnection, SqliteConnection};

/// The table sqlx keeps its migration history in; it is not the schema.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

// ---------------------------------------------------------------------------
// The normalised description.

#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, Table>,
    /// Views and triggers, which no migration uses yet: `view name` or
    /// `trigger name on table`.
    others: BTreeSet<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    /// Column lists of UNIQUE constraints (not of unique indexes).
    uniques: BTreeSet<Vec<String>>,
    foreign_keys: BTreeSet<ForeignKey>,
    checks: BTreeSet<Check>,
    /// Indexes created by CREATE INDEX, by name; the indexes behind primary
    /// keys and UNIQUE constraints are described by those.
    indexes: BTreeMap<String, Index>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    ty: Type,
    not_null: bool,
    /// Normalised default expression.
    default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Type {
    SmallInt,
    Integer,
    BigInt,
    /// The single-column integer primary key, whose width SQLite does not
    /// state (see the module comment).
    IntegerKey,
    Boolean,
    Text,
    Float32,
    Float64,
    Bytes,
    /// Anything else, by its name on that backend: always reported.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    columns: Vec<String>,
    table: String,
    referenced: Vec<String>,
    on_delete: String,
    on_update: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Check {
    /// Columns the expression names, sorted.
    columns: Vec<String>,
    /// Normalised expression.
    expression: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    unique: bool,
    /// Normalised key columns or expressions, in order, `desc` appended for
    /// descending ones.
    keys: Vec<String>,
    /// Normalised WHERE clause of a partial index.
    predicate: Option<String>,
}

impl Type {
    fn is_integer(&self) -> bool {
        matches!(
            self,
            Type::SmallInt | Type::Integer | Type::BigInt | Type::IntegerKey
        )
    }

    fn describe(&self) -> String {
        match self {
            Type::SmallInt => "smallint".to_owned(),
            Type::Integer => "integer".to_owned(),
            Type::BigInt => "bigint".to_owned(),
            Type::IntegerKey => "integer (primary key)".to_owned(),
            Type::Boolean => "boolean".to_owned(),
            Type::Text => "text".to_owned(),
            Type::Float32 => "float32".to_owned(),
            Type::Float64 => "float64".to_owned(),
            Type::Bytes => "bytes".to_owned(),
            Type::Other(name) => format!("unmapped type {name:?}"),
        }
    }

    /// A declared SQLite type (`pragma_table_info.type`).
    fn from_sqlite(declared: &str) -> Type {
        let upper = declared.trim().to_ascii_uppercase();
        // VARCHAR(255), NUMERIC(10, 2): the family is in the name.
        let name = upper.split('(').next().unwrap_or("").trim();
        match name {
            "SMALLINT" | "INT2" | "TINYINT" => Type::SmallInt,
            "INTEGER" | "INT" | "INT4" | "MEDIUMINT" => Type::Integer,
            "BIGINT" | "INT8" => Type::BigInt,
            "BOOLEAN" | "BOOL" => Type::Boolean,
            "TEXT" | "VARCHAR" | "CHARACTER VARYING" | "CHAR" | "CHARACTER" | "CLOB" => Type::Text,
            // Every SQLite float is 8 bytes, whatever it is called.
            "REAL" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT8" => Type::Float64,
            "BLOB" => Type::Bytes,
            _ => Type::Other(declared.to_owned()),
        }
    }

    /// A PostgreSQL type by `pg_type.typname`.
    fn from_postgres(typname: &str) -> Type {
        match typname {
            "int2" => Type::SmallInt,
            "int4" => Type::Integer,
            "int8" => Type::BigInt,
            "bool" => Type::Boolean,
            "text" | "varchar" | "bpchar" => Type::Text,
            "float4" => Type::Float32,
            "float8" => Type::Float64,
            "bytea" => Type::Bytes,
            other => Type::Other(other.to_owned()),
        }
    }
}

impl Schema {
    /// Rules both backends share, applied once every table is read.
    fn finish(mut self) -> Schema {
        for table in self.tables.values_mut() {
            if let [key] = table.primary_key.as_slice() {
                if let Some(column) = table.columns.get_mut(key) {
                    if column.ty.is_integer() {
                        column.ty = Type::IntegerKey;
                    }
                }
            }
            for column in table.columns.values_mut() {
                column.default = column
                    .default
                    .take()
                    .map(|default| normalise_default(&default, &column.ty))
                    .filter(|default| default != "null");
            }
        }
        self
    }

    /// One line per fact, sorted: what the comparison compares, readably.
    fn facts(&self) -> BTreeSet<String> {
        let mut facts = BTreeSet::new();
        for (name, table) in &self.tables {
            facts.insert(format!("table {name}"));
            for (column_name, column) in &table.columns {
                facts.insert(format!(
                    "{name}.{column_name}: {}, {}, default {}",
                    column.ty.describe(),
                    if column.not_null {
                        "NOT NULL"
                    } else {
                        "nullable"
                    },
                    column.default.as_deref().unwrap_or("none"),
                ));
            }
            if !table.primary_key.is_empty() {
                facts.insert(format!(
                    "{name}: PRIMARY KEY ({})",
                    table.primary_key.join(", ")
                ));
            }
            for unique in &table.uniques {
                facts.insert(format!("{name}: UNIQUE ({})", unique.join(", ")));
            }
            for fk in &table.foreign_keys {
                facts.insert(format!(
                    "{name}: FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
                    fk.columns.join(", "),
                    fk.table,
                    fk.referenced.join(", "),
                    fk.on_delete,
                    fk.on_update,
                ));
            }
            for check in &table.checks {
                facts.insert(format!(
                    "{name}: CHECK on ({}): {}",
                    check.columns.join(", "),
                    check.expression
                ));
            }
            for (index_name, index) in &table.indexes {
                let mut fact = format!(
                    "{name}: {}INDEX {index_name} ({})",
                    if index.unique { "UNIQUE " } else { "" },
                    index.keys.join(", ")
                );
                if let Some(predicate) = &index.predicate {
                    let _ = write!(fact, " WHERE {predicate}");
                }
                facts.insert(fact);
            }
        }
        facts.extend(self.others.iter().cloned());
        facts
    }
}

/// What differs, as a readable report; empty when nothing does.
fn difference(left_name: &str, left: &Schema, right_name: &str, right: &Schema) -> String {
    let left_facts = left.facts();
    let right_facts = right.facts();
    let mut report = String::new();
    let only_left: Vec<_> = left_facts.difference(&right_facts).collect();
    let only_right: Vec<_> = right_facts.difference(&left_facts).collect();
    if !only_left.is_empty() {
        let _ = writeln!(report, "only in {left_name}:");
        for fact in only_left {
            let _ = writeln!(report, "  - {fact}");
        }
    }
    if !only_right.is_empty() {
        let _ = writeln!(report, "only in {right_name}:");
        for fact in only_right {
            let _ = writeln!(report, "  + {fact}");
        }
    }
    if report.is_empty() && left != right {
        // The facts render every field; this is only a safety net.
        let _ = writeln!(report, "{left_name}: {left:#?}\n{right_name}: {right:#?}");
    }
    report
}

// ---------------------------------------------------------------------------
// SQL expressions, normalised.
//
// Both catalogs give expressions as text: SQLite as written in the
// migration, PostgreSQL as deparsed from its parse tree. The normaliser
// tokenises the text and removes what only the spelling changes: case,
// whitespace, comments, casts (`''::text`), grouping parentheses, `!=` for
// `<>`, and `x BETWEEN a AND b` (which PostgreSQL stores as
// `x >= a AND x <= b`).

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An identifier or keyword: unquoted ones lower-cased, quoted ones as
    /// written (without the quotes).
    Word(String),
    /// A string literal, quotes included.
    Str(String),
    Num(String),
    Punct(String),
}

impl Token {
    fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w == word)
    }

    fn is_punct(&self, punct: &str) -> bool {
        matches!(self, Token::Punct(p) if p == punct)
    }

    fn text(&self) -> &str {
        match self {
            Token::Word(s) | Token::Str(s) | Token::Num(s) | Token::Punct(s) => s,
        }
    }
}

fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            let end = i.min(chars.len());
            tokens.push(Token::Str(chars[start..end].iter().collect()));
        } else if c == '"' || c == '`' {
            // Quoted identifiers. (SQLite's [name] is not supported: `[`
            // is PostgreSQL's array subscript.)
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            tokens.push(Token::Word(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Num(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Word(word.to_lowercase()));
        } else {
            let pair: String = [c, next.unwrap_or(' ')].iter().collect();
            if ["::", "<=", ">=", "<>", "!=", "==", "||", "<<", ">>"].contains(&pair.as_str()) {
                tokens.push(Token::Punct(pair));
                i += 2;
            } else {
                tokens.push(Token::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    tokens
}

/// Keywords after which a parenthesis groups rather than calls.
const OPERATOR_WORDS: &[&str] = &[
    "and", "or", "not", "is", "when", "then", "else", "case", "between", "like", "glob", "where",
    "check", "default",
];

const NUMERIC_TYPES: &[&str] = &[
    "smallint", "integer", "int", "bigint", "int2", "int4", "int8", "numeric", "decimal", "real",
    "double", "float4", "float8",
];

fn normalise_tokens(tokens: &[Token]) -> String {
    // Casts: `expr::type`, where the type may be several words
    // (`double precision`), have a modifier (`(10)`) and be an array (`[]`).
    let mut uncast: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if !tokens[i].is_punct("::") {
            uncast.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += 1;
        let type_name = tokens.get(i).map(Token::text).unwrap_or("").to_owned();
        i += 1;
        while let Some(Token::Word(w)) = tokens.get(i) {
            if ["varying", "precision", "with", "without", "time", "zone"].contains(&w.as_str()) {
                i += 1;
            } else {
                break;
            }
        }
        if tokens.get(i).is_some_and(|t| t.is_punct("(")) {
            while i < tokens.len() && !tokens[i].is_punct(")") {
                i += 1;
            }
            i += 1;
        }
        while tokens.get(i).is_some_and(|t| t.is_punct("["))
            && tokens.get(i + 1).is_some_and(|t| t.is_punct("]"))
        {
            i += 2;
        }
        // '-1'::integer is how PostgreSQL shows a negative number.
        if NUMERIC_TYPES.contains(&type_name.as_str()) {
            if let Some(Token::Str(s)) = uncast.last() {
                let inner = s.trim_matches('\'');
                if inner.parse::<f64>().is_ok() {
                    let number = inner.to_owned();
                    uncast.pop();
                    if let Some(unsigned) = number.strip_prefix('-') {
                        uncast.push(Token::Punct("-".to_owned()));
                        uncast.push(Token::Num(unsigned.to_owned()));
                    } else {
                        uncast.push(Token::Num(number));
                    }
                }
            }
        }
    }

    // Operators with two spellings.
    for token in &mut uncast {
        if token.is_punct("!=") {
            *token = Token::Punct("<>".to_owned());
        } else if token.is_punct("==") {
            *token = Token::Punct("=".to_owned());
        }
    }

    // `x BETWEEN a AND b` over single tokens, as PostgreSQL stores it.
    let mut between: Vec<Token> = Vec::with_capacity(uncast.len());
    let mut i = 0;
    while i < uncast.len() {
        let operand =
            |t: Option<&Token>| matches!(t, Some(Token::Word(_) | Token::Num(_) | Token::Str(_)));
        let negated = i > 0 && uncast[i - 1].is_word("not");
        if !negated
            && operand(uncast.get(i))
            && uncast.get(i + 1).is_some_and(|t| t.is_word("between"))
            && operand(uncast.get(i + 2))
            && uncast.get(i + 3).is_some_and(|t| t.is_word("and"))
            && operand(uncast.get(i + 4))
        {
            let x = uncast[i].clone();
            between.extend([
                x.clone(),
                Token::Punct(">=".to_owned()),
                uncast[i + 2].clone(),
                Token::Word("and".to_owned()),
                x,
                Token::Punct("<=".to_owned()),
                uncast[i + 4].clone(),
            ]);
            i += 5;
        } else {
            between.push(uncast[i].clone());
            i += 1;
        }
    }

    // Grouping parentheses go; those of function calls stay.
    let mut out: Vec<Token> = Vec::with_capacity(between.len());
    let mut groups: Vec<bool> = Vec::new();
    for token in between {
        if token.is_punct("(") {
            let call =
                matches!(out.last(), Some(Token::Word(w)) if !OPERATOR_WORDS.contains(&w.as_str()));
            groups.push(!call);
            if call {
                out.push(token);
            }
        } else if token.is_punct(")") {
            if !groups.pop().unwrap_or(false) {
                out.push(token);
            }
        } else {
            out.push(token);
        }
    }

    let mut text = String::new();
    let mut previous_spaced = false;
    for token in &out {
        let spaced = !matches!(token, Token::Punct(_));
        if spaced && previous_spaced {
            text.push(' ');
        }
        text.push_str(token.text());
        previous_spaced = spaced;
    }
    text
}

fn normalise_sql(sql: &str) -> String {
    normalise_tokens(&tokenize(sql))
}

fn normalise_default(sql: &str, ty: &Type) -> String {
    let text = normalise_sql(sql);
    if *ty == Type::Boolean {
        match text.as_str() {
            "0" | "'f'" | "'false'" => return "false".to_owned(),
            "1" | "'t'" | "'true'" => return "true".to_owned(),
            _ => {}
        }
    }
    text
}

/// The parenthesised group that opens at `tokens[open]`: its inside, and the
/// index just past its closing parenthesis.
fn group(tokens: &[Token], open: usize) -> (&[Token], usize) {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth -= 1;
            if depth == 0 {
                return (&tokens[open + 1..i], i + 1);
            }
        }
    }
    (&tokens[(open + 1).min(tokens.len())..], tokens.len())
}

/// Split at top-level commas.
fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if token.is_punct(",") && depth == 0 {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The CHECK expressions of a CREATE TABLE statement (column and table
/// constraints alike), as token lists.
fn sqlite_checks(create_table: &str) -> Vec<Vec<Token>> {
    let tokens = tokenize(create_table);
    let mut checks = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is_word("check") && tokens.get(i + 1).is_some_and(|t| t.is_punct("(")) {
            let (inside, end) = group(&tokens, i + 1);
            checks.push(inside.to_vec());
            i = end;
        } else {
            i += 1;
        }
    }
    checks
}

/// Key expressions and predicate of a CREATE INDEX statement.
fn sqlite_index_parts(create_index: &str) -> (Vec<String>, Option<String>) {
    let tokens = tokenize(create_index);
    let Some(on) = tokens.iter().position(|t| t.is_word("on")) else {
        return (Vec::new(), None);
    };
    let Some(open) = tokens.iter().skip(on).position(|t| t.is_punct("(")) else {
        return (Vec::new(), None);
    };
    let (inside, end) = group(&tokens, on + open);
    let keys = split_commas(inside)
        .into_iter()
        .map(|key| {
            let mut key = key.to_vec();
            let mut desc = false;
            if key.last().is_some_and(|t| t.is_word("desc")) {
                key.pop();
                desc = true;
            } else if key.last().is_some_and(|t| t.is_word("asc")) {
                key.pop();
            }
            let text = normalise_tokens(&key);
            if desc { format!("{text} desc") } else { text }
        })
        .collect();
    let predicate = match tokens.get(end) {
        Some(t) if t.is_word("where") => Some(normalise_tokens(&tokens[end + 1..])),
        _ => None,
    };
    (keys, predicate)
}

fn referenced_columns(expression: &[Token], table: &Table) -> Vec<String> {
    let names: BTreeSet<String> = expression
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) if table.columns.contains_key(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    names.into_iter().collect()
}

// ---------------------------------------------------------------------------
// SQLite, from sqlite_master and the pragma functions.

fn sqlite_action(action: &str) -> String {
    action.to_ascii_uppercase()
}

async fn describe_sqlite(conn: &mut SqliteConnection) -> Schema {
    let tables: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT name, wr, strict FROM pragma_table_list \
         WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name <> ?1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *conn)
    .await
    .expect("list SQLite tables");

    let mut schema = Schema::default();
    // Foreign keys naming no columns refer to the parent's primary key,
    // known once every table is read.
    let mut implicit_references: Vec<(String, ForeignKey)> = Vec::new();
    for (name, without_rowid, strict) in tables {
        let mut table = Table::default();

        let columns: Vec<(String, String, bool, Option<String>, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .expect("SQLite columns");
        let mut key: Vec<(i64, String)> = columns
            .iter()
            .filter(|c| c.4 > 0)
            .map(|c| (c.4, c.0.to_lowercase()))
            .collect();
        key.sort();
        table.primary_key = key.into_iter().map(|(_, column)| column).collect();
        for (column, declared, not_null, default, pk) in columns {
            // The rowid cannot be NULL (a NULL becomes a new rowid); other
            // primary key columns can, unless the table is WITHOUT ROWID
            // or STRICT.
            let rowid = table.primary_key.len() == 1
                && pk == 1
                && declared.eq_ignore_ascii_case("INTEGER")
                && !without_rowid;
            let not_null = not_null || (pk > 0 && (rowid || without_rowid || strict));
            table.columns.insert(
                column.to_lowercase(),
                Column {
                    ty: Type::from_sqlite(&declared),
                    not_null,
                    default,
                },
            );
        }

        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await
                .expect("SQLite indexes");
        for (index, unique, origin) in indexes {
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    let columns: Vec<(Option<String>,)> =
                        sqlx::query_as("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                            .bind(&index)
                            .fetch_all(&mut *conn)
                            .await
                            .expect("SQLite unique constraint columns");
                    table.uniques.insert(
                        columns
                            .into_iter()
                            .map(|(c,)| {
                                c.map_or_else(|| "<expression>".to_owned(), |c| c.to_lowercase())
                            })
                            .collect(),
                    );
                }
                _ => {
                    let (sql,): (String,) = sqlx::query_as(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    )
                    .bind(&index)
                    .fetch_one(&mut *conn)
                    .await
                    .expect("SQLite index statement");
                    let (keys, predicate) = sqlite_index_parts(&sql);
                    table.indexes.insert(
                        index.to_lowercase(),
                        Index {
                            unique,
                            keys,
                            predicate,
                        },
                    );
                }
            }
        }

        let foreign_keys: Vec<(i64, String, String, Option<String>, String, String)> =
            sqlx::query_as(
                "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
                 FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            )
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .expect("SQLite foreign keys");
        let mut by_id: BTreeMap<i64, (ForeignKey, bool)> = BTreeMap::new();
        for (id, parent, from, to, on_update, on_delete) in foreign_keys {
            let (fk, implicit) = by_id.entry(id).or_insert_with(|| {
                (
                    ForeignKey {
                        columns: Vec::new(),
                        table: parent.to_lowercase(),
                        referenced: Vec::new(),
                        on_delete: sqlite_action(&on_delete),
                        on_update: sqlite_action(&on_update),
                    },
                    false,
                )
            });
            fk.columns.push(from.to_lowercase());
            match to {
                Some(to) => fk.referenced.push(to.to_lowercase()),
                None => *implicit = true,
            }
        }
        for (fk, implicit) in by_id.into_values() {
            if implicit {
                implicit_references.push((name.to_lowercase(), fk));
            } else {
                table.foreign_keys.insert(fk);
            }
        }

        let (sql,): (String,) =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await
                .expect("SQLite table statement");
        for check in sqlite_checks(&sql) {
            let columns = referenced_columns(&check, &table);
            table.checks.insert(Check {
                columns,
                expression: normalise_tokens(&check),
            });
        }

        schema.tables.insert(name.to_lowercase(), table);
    }
    for (child, mut fk) in implicit_references {
        fk.referenced = schema
            .tables
            .get(&fk.table)
            .map(|parent| parent.primary_key.clone())
            .unwrap_or_default();
        if let Some(table) = schema.tables.get_mut(&child) {
            table.foreign_keys.insert(fk);
        }
    }

    let others: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('view', 'trigger')",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("SQLite views and triggers");
    for (kind, name, table) in others {
        let (name, table) = (name.to_lowercase(), table.to_lowercase());
        schema.others.insert(match kind.as_str() {
            "trigger" => format!("trigger {name} on {table}"),
            _ => format!("view {name}"),
        });
    }
    schema.finish()
}

// ---------------------------------------------------------------------------
// PostgreSQL, from pg_catalog.

fn postgres_action(code: &str) -> String {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        other => other,
    }
    .to_owned()
}

async fn describe_postgres(conn: &mut PgConnection) -> Schema {
    let tables: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.oid::int8 FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *conn)
    .await
    .expect("list PostgreSQL tables");

    let mut schema = Schema::default();
    for (name, oid) in tables {
        let mut table = Table::default();

        let columns: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT a.attname::text, t.typname::text, a.attnotnull, \
                    pg_get_expr(d.adbin, d.adrelid, true) \
             FROM pg_attribute a \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
        )
        .bind(oid)
        .fetch_all(&mut *conn)
        .await
        .expect("PostgreSQL columns");
        for (column, typname, not_null, default) in columns {
            table.columns.insert(
                column,
                Column {
                    ty: Type::from_postgres(&typname),
                    not_null,
                    default,
                },
            );
        }

        /// Kind, columns, referenced table and columns, ON DELETE and ON
        /// UPDATE codes, CHECK expression.
        type ConstraintRow = (
            String,
            Vec<String>,
            String,
            Vec<String>,
            String,
            String,
            String,
        );
        let constraints: Vec<ConstraintRow> = sqlx::query_as(
            "SELECT con.contype::text, \
                    ARRAY(SELECT a.attname::text \
                          FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord) \
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num \
                          ORDER BY k.ord), \
                    COALESCE(f.relname::text, ''), \
                    ARRAY(SELECT a.attname::text \
                          FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord) \
                          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num \
                          ORDER BY k.ord), \
                    con.confdeltype::text, con.confupdtype::text, \
                    COALESCE(pg_get_expr(con.conbin, con.conrelid, true), '') \
             FROM pg_constraint con \
             LEFT JOIN pg_class f ON f.oid = con.confrelid \
             WHERE con.conrelid = $1::oid",
        )
        .bind(oid)
        .fetch_all(&mut *conn)
        .await
        .expect("PostgreSQL constraints");
        for (kind, columns, parent, referenced, on_delete, on_update, expression) in constraints {
            match kind.as_str() {
                "p" => table.primary_key = columns,
                "u" => {
                    table.uniques.insert(columns);
                }
                "f" => {
                    table.foreign_keys.insert(ForeignKey {
                        columns,
                        table: parent,
                        referenced,
                        on_delete: postgres_action(&on_delete),
                        on_update: postgres_action(&on_update),
                    });
                }
                "c" => {
                    let mut columns = columns;
                    columns.sort();
                    table.checks.insert(Check {
                        columns,
                        expression: normalise_sql(&expression),
                    });
                }
                other => {
                    schema
                        .others
                        .insert(format!("constraint of kind {other} on {name}"));
                }
            }
        }

        /// Name, unique, predicate, key expressions, which keys descend.
        type IndexRow = (String, bool, Option<String>, Vec<String>, Vec<bool>);
        let indexes: Vec<IndexRow> = sqlx::query_as(
            "SELECT i.relname::text, ix.indisunique, \
                        pg_get_expr(ix.indpred, ix.indrelid, true), \
                        ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) \
                              FROM generate_series(1, ix.indnkeyatts::int) AS k ORDER BY k), \
                        ARRAY(SELECT (ix.indoption[k - 1]::int & 1) = 1 \
                              FROM generate_series(1, ix.indnkeyatts::int) AS k ORDER BY k) \
                 FROM pg_index ix \
                 JOIN pg_class i ON i.oid = ix.indexrelid \
                 WHERE ix.indrelid = $1::oid \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
                                   WHERE con.conindid = ix.indexrelid \
                                     AND con.conrelid = ix.indrelid \
                                     AND con.contype IN ('p', 'u', 'x'))",
        )
        .bind(oid)
        .fetch_all(&mut *conn)
        .await
        .expect("PostgreSQL indexes");
        for (index, unique, predicate, keys, descending) in indexes {
            let keys = keys
                .iter()
                .zip(descending.iter().chain(std::iter::repeat(&false)))
                .map(|(key, desc)| {
                    let text = normalise_sql(key);
                    if *desc { format!("{text} desc") } else { text }
                })
                .collect();
            table.indexes.insert(
                index,
                Index {
                    unique,
                    keys,
                    predicate: predicate.as_deref().map(normalise_sql),
                },
            );
        }

        let triggers: Vec<(String,)> = sqlx::query_as(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal",
        )
        .bind(oid)
        .fetch_all(&mut *conn)
        .await
        .expect("PostgreSQL triggers");
        for (trigger,) in triggers {
            schema.others.insert(format!("trigger {trigger} on {name}"));
        }

        schema.tables.insert(name, table);
    }

    let views: Vec<(String,)> =
        sqlx::query_as("SELECT viewname::text FROM pg_views WHERE schemaname = current_schema()")
            .fetch_all(&mut *conn)
            .await
            .expect("PostgreSQL views");
    for (view,) in views {
        schema.others.insert(format!("view {view}"));
    }
    schema.finish()
}

// ---------------------------------------------------------------------------
// Databases.

/// A migrated SQLite database in a temporary directory, whatever backend
/// this test run uses.
async fn migrated_sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let db = Db::connect(&url, &ConnectOptions::default())
        .await
        .expect("connect to SQLite");
    db.migrate().await.expect("apply the SQLite migrations");
    (dir, db)
}

async fn describe(db: &Db) -> Schema {
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await.expect("SQLite connection");
            describe_sqlite(&mut conn).await
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await.expect("PostgreSQL connection");
            describe_postgres(&mut conn).await
        }
    }
}

/// A private in-memory SQLite database holding `ddl`, described.
async fn describe_ddl(ddl: &str) -> Schema {
    let mut conn = SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::raw_sql(ddl)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("apply test DDL: {e}\n{ddl}"));
    let schema = describe_sqlite(&mut conn).await;
    let _ = conn.close().await;
    schema
}

// ---------------------------------------------------------------------------
// Tests.

/// The one place the schemas differ by design: full-text search of
/// statuses is each engine's own (on SQLite an FTS5 table over
/// `statuses.search_text`, which pragma_table_list does not list as a
/// table, kept in step by three triggers; on PostgreSQL a GIN index of
/// the same column's text search vector). Both read the same column, and
/// the search tests run on both. Each side's part must be there, then is
/// set aside.
fn set_aside_full_text_search(sqlite: &mut Schema, postgres: &mut Schema) {
    for trigger in [
        "trigger status_search_insert on statuses",
        "trigger status_search_delete on statuses",
        "trigger status_search_update on statuses",
    ] {
        assert!(sqlite.others.remove(trigger), "SQLite lacks {trigger}");
    }
    let index = postgres
        .tables
        .get_mut("statuses")
        .and_then(|table| table.indexes.remove("statuses_search"));
    assert!(
        index.is_some(),
        "PostgreSQL lacks the index statuses_search"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_schema() {
    if std::env::var(testing::POSTGRES_URL_VAR)
        .unwrap_or_default()
        .is_empty()
    {
        // Needs a PostgreSQL server: runs in the PostgreSQL pass.
        return;
    }
    let (_dir, sqlite_db) = migrated_sqlite().await;
    let postgres_database = TestDatabase::create().await;
    let postgres_db = postgres_database.connect().await;
    assert!(matches!(postgres_db, Db::Postgres(_)));

    let mut sqlite = describe(&sqlite_db).await;
    let mut postgres = describe(&postgres_db).await;
    set_aside_full_text_search(&mut sqlite, &mut postgres);
    assert!(
        sqlite.tables.contains_key("accounts") && postgres.tables.contains_key("accounts"),
        "both descriptions hold the schema"
    );
    let diff = difference("SQLite", &sqlite, "PostgreSQL", &postgres);
    assert!(
        diff.is_empty(),
        "migrations/sqlite and migrations/postgres define different schemas:\n{diff}"
    );
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn the_sqlite_description_reads_every_kind_of_fact() {
    let (_dir, db) = migrated_sqlite().await;
    let schema = describe(&db).await;
    assert!(!schema.tables.contains_key(MIGRATIONS_TABLE));
    let facts = schema.facts();
    for expected in [
        "accounts.id: integer (primary key), NOT NULL, default none",
        "accounts.locked: boolean, NOT NULL, default false",
        "accounts.actor_type: text, NOT NULL, default 'Person'",
        "accounts.domain: text, nullable, default none",
        "statuses.visibility: smallint, NOT NULL, default none",
        "deliveries.attempts: integer, NOT NULL, default 0",
        "media_attachments.focus_x: float64, nullable, default none",
        "accounts: UNIQUE (uri)",
        "follows: UNIQUE (account_id, target_account_id)",
        "recovery_codes: PRIMARY KEY (account_id, code_hash)",
        "users: FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE ON UPDATE NO ACTION",
        "statuses: FOREIGN KEY (in_reply_to_id) REFERENCES statuses (id) ON DELETE SET NULL ON UPDATE NO ACTION",
        "statuses: CHECK on (visibility): visibility>=0 and visibility<=3",
        "chats: CHECK on (account_high, account_low): account_low<account_high",
        "accounts: UNIQUE INDEX accounts_username_domain (lower(username), coalesce(lower(domain),''))",
        "statuses: INDEX statuses_public_local (local, id) WHERE visibility=0 and reblog_of_id is null",
        "notifications: UNIQUE INDEX notifications_once (account_id, kind, from_account_id, coalesce(status_id,0), coalesce(report_id,0))",
    ] {
        assert!(
            facts.contains(expected),
            "missing fact {expected:?}; the description holds:\n{}",
            facts.iter().cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// The comparison is not vacuous: each kind of difference is reported, and
/// spellings that mean the same are not.
#[tokio::test]
async fn the_comparison_reports_each_kind_of_difference() {
    const BASE: &str = "
        CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
        CREATE TABLE child (
            id INTEGER PRIMARY KEY,
            parent_id BIGINT NOT NULL REFERENCES parent (id) ON DELETE CASCADE,
            kind SMALLINT NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 3),
            flag BOOLEAN NOT NULL DEFAULT FALSE,
            note TEXT,
            UNIQUE (parent_id, kind)
        );
        CREATE INDEX child_note ON child (note) WHERE kind = 0;
    ";
    let base = describe_ddl(BASE).await;
    assert_eq!(
        difference("base", &base, "same", &describe_ddl(BASE).await),
        ""
    );

    // Other spellings of the same schema.
    let respelled = describe_ddl(
        "
        create table PARENT (ID integer primary key, CODE text not null unique);
        create table child (
            id integer primary key,
            parent_id int8 not null,
            kind int2 not null default (0),
            flag bool not null default 0,
            note varchar(200),
            unique (parent_id, kind),
            check ((kind >= 0) and (kind <= 3)),
            foreign key (parent_id) references parent on delete cascade
        );
        create index child_note on child (note) where (kind = 0);
    ",
    )
    .await;
    assert_eq!(difference("base", &base, "respelled", &respelled), "");

    let variants = [
        (
            "an extra table",
            "CREATE TABLE extra (id INTEGER PRIMARY KEY);",
            "table extra",
        ),
        (
            "an extra column",
            "ALTER TABLE child ADD COLUMN x TEXT NOT NULL DEFAULT '';",
            "child.x",
        ),
        (
            "an extra index",
            "CREATE INDEX child_kind ON child (kind);",
            "INDEX child_kind",
        ),
    ];
    for (what, extra, expected) in variants {
        let changed = describe_ddl(&format!("{BASE}{extra}")).await;
        let diff = difference("base", &base, "changed", &changed);
        assert!(diff.contains(expected), "{what} not reported: {diff:?}");
    }

    // One change each, to the base schema.
    let changes: [(&str, &str, &str, &str); 10] = [
        ("column type", "note TEXT", "note BLOB", "child.note: bytes"),
        (
            "integer width",
            "parent_id BIGINT",
            "parent_id INTEGER",
            "child.parent_id: integer,",
        ),
        (
            "boolean as integer",
            "flag BOOLEAN",
            "flag INTEGER",
            "child.flag: integer",
        ),
        (
            "nullability",
            "note TEXT,",
            "note TEXT NOT NULL,",
            "child.note: text, NOT NULL",
        ),
        (
            "default",
            "DEFAULT FALSE",
            "DEFAULT TRUE",
            "child.flag: boolean, NOT NULL, default true",
        ),
        (
            "unique constraint",
            "UNIQUE (parent_id, kind)",
            "UNIQUE (kind, parent_id)",
            "child: UNIQUE (kind, parent_id)",
        ),
        (
            "foreign key action",
            "ON DELETE CASCADE",
            "ON DELETE SET NULL",
            "ON DELETE SET NULL",
        ),
        (
            "check expression",
            "BETWEEN 0 AND 3",
            "BETWEEN 0 AND 4",
            "kind<=4",
        ),
        (
            "index predicate",
            "WHERE kind = 0",
            "WHERE kind = 1",
            "WHERE kind=1",
        ),
        (
            "index uniqueness",
            "CREATE INDEX child_note",
            "CREATE UNIQUE INDEX child_note",
            "UNIQUE INDEX child_note",
        ),
    ];
    for (what, from, to, expected) in changes {
        assert!(BASE.contains(from), "{what}: {from:?} is not in the base");
        let changed = describe_ddl(&BASE.replacen(from, to, 1)).await;
        let diff = difference("base", &base, "changed", &changed);
        assert!(
            diff.contains(expected),
            "{what} not reported as {expected:?}: {diff}"
        );
        assert_ne!(base, changed, "{what}");
    }

    // A text primary key without NOT NULL accepts NULL on SQLite.
    let text_key = describe_ddl("CREATE TABLE t (k TEXT PRIMARY KEY);").await;
    let declared = describe_ddl("CREATE TABLE t (k TEXT NOT NULL PRIMARY KEY);").await;
    let diff = difference("text key", &text_key, "declared", &declared);
    assert!(diff.contains("t.k: text, nullable"), "{diff}");
    // Key order and index column order count.
    let ab = describe_ddl(
        "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b)); CREATE INDEX i ON t (a, b);",
    )
    .await;
    let ba = describe_ddl(
        "CREATE TABLE t (a INT, b INT, PRIMARY KEY (b, a)); CREATE INDEX i ON t (b, a);",
    )
    .await;
    let diff = difference("ab", &ab, "ba", &ba);
    assert!(
        diff.contains("PRIMARY KEY (b, a)") && diff.contains("INDEX i (b, a)"),
        "{diff}"
    );
}

/// PostgreSQL's deparsed expressions and the migrations' SQLite text
/// normalise alike.
#[test]
fn expressions_normalise_across_dialects() {
    for (postgres, sqlite) in [
        (
            "COALESCE(lower(domain), ''::text)",
            "COALESCE(lower(domain), '')",
        ),
        ("COALESCE(status_id, 0::bigint)", "COALESCE(status_id, 0)"),
        (
            "visibility >= 0 AND visibility <= 3",
            "visibility BETWEEN 0 AND 3",
        ),
        (
            "visibility = 0 AND reblog_of_id IS NULL",
            "visibility = 0 AND reblog_of_id IS NULL",
        ),
        ("'Person'::text", "'Person'"),
        ("'-1'::integer", "-1"),
        ("(a <> b)", "a != b"),
        ("name::character varying(20)", "name"),
        (
            "'x'::text = ANY (ARRAY['a'::text])",
            "'x' = ANY (ARRAY['a'])",
        ),
    ] {
        assert_eq!(
            normalise_sql(postgres),
            normalise_sql(sqlite),
            "{postgres} / {sqlite}"
        );
    }
    // Different meanings stay different.
    for (a, b) in [
        ("a >= 0", "a > 0"),
        ("'Person'", "'person'"),
        ("lower(a)", "upper(a)"),
        ("a is null", "a is not null"),
        ("coalesce(a, 0)", "coalesce(a, 1)"),
    ] {
        assert_ne!(normalise_sql(a), normalise_sql(b), "{a} / {b}");
    }
    // Comments and string contents are not code.
    assert_eq!(
        sqlite_checks(
            "CREATE TABLE t (\n -- check (x > 0)\n a TEXT DEFAULT 'check (y)' CHECK (a <> ''))"
        )
        .iter()
        .map(|c| normalise_tokens(c))
        .collect::<Vec<_>>(),
        vec!["a<>''".to_owned()]
    );
    assert_eq!(
        sqlite_index_parts("CREATE INDEX i ON \"t\" (a DESC, lower(b) ASC) WHERE a IS NOT NULL"),
        (
            vec!["a desc".to_owned(), "lower(b)".to_owned()],
            Some("a is not null".to_owned())
        )
    );
}
