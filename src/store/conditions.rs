//! A WHERE clause assembled from optional conditions, with its values bound in order: each
//! `bind` answers the next `$n` placeholder, so a listing adds only the filters it was given.

use sea_orm::Value;

#[derive(Debug, Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// Binds `value` and answers its placeholder.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Adds a condition (which uses placeholders from `bind`).
    pub(crate) fn and(&mut self, clause: impl Into<String>) {
        self.clauses.push(clause.into());
    }

    /// ` WHERE a AND b`, or nothing when there is no condition.
    pub(crate) fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub(crate) fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// A LIKE pattern matching `text` anywhere, with LIKE's wildcards and the escape character
/// escaped (use with `ESCAPE '\'`). Case is left to the query (`LOWER` on both sides), so the
/// database folds the column and the pattern alike.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_bound_values() {
        let mut conditions = Conditions::default();
        let first = conditions.bind("a");
        conditions.and(format!("x = {first}"));
        let second = conditions.bind(2_i64);
        conditions.and(format!("y < {second}"));

        assert_eq!(conditions.where_clause(), " WHERE x = $1 AND y < $2");
        assert_eq!(conditions.into_values().len(), 2);
    }

    #[test]
    fn no_condition_is_no_where_clause() {
        assert_eq!(Conditions::default().where_clause(), "");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(contains_pattern("Ab%_\\c"), "%Ab\\%\\_\\\\c%");
    }
}
