//! Load-time problems with rule packs: one `PackError` per problem, collected into `PackErrors`.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found while loading a pack file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {place}: {reason}", file.display())]
pub struct PackError {
    /// The file (or directory) the problem is in.
    pub file: PathBuf,
    /// Where in the file: a key path such as `severity_rules[2].when[0].op`, or `line 12, column 5`.
    pub place: String,
    /// What is wrong, in words.
    pub reason: String,
}

/// Every problem found while loading the packs; displayed one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackErrors(pub Vec<PackError>);

impl PackErrors {
    pub fn iter(&self) -> impl Iterator<Item = &PackError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for PackErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PackErrors {}

/// Collects the problems of one file so validators only name the place and the reason.
#[derive(Debug)]
pub(crate) struct FileProblems {
    file: PathBuf,
    errors: Vec<PackError>,
}

impl FileProblems {
    pub(crate) fn new(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn report(&mut self, place: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(PackError {
            file: self.file.clone(),
            place: place.into(),
            reason: reason.into(),
        });
    }

    pub(crate) fn into_errors(self) -> Vec<PackError> {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_one_problem_per_line() {
        // Arrange
        let errors = PackErrors(vec![
            PackError {
                file: PathBuf::from("config/domains/a.toml"),
                place: "severity_rules[2].when[0].op".into(),
                reason: "unknown op 'like'".into(),
            },
            PackError {
                file: PathBuf::from("config/tenants/b.toml"),
                place: "line 3, column 1".into(),
                reason: "unknown field `colour`".into(),
            },
        ]);

        // Act
        let text = errors.to_string();

        // Assert
        assert_eq!(
            text,
            "config/domains/a.toml: severity_rules[2].when[0].op: unknown op 'like'\n\
             config/tenants/b.toml: line 3, column 1: unknown field `colour`"
        );
    }

    #[test]
    fn file_problems_carry_the_file_name() {
        // Arrange
        let mut problems = FileProblems::new(Path::new("x.toml"));

        // Act
        problems.report("name", "must not be empty");

        // Assert
        let errors = problems.into_errors();
        assert_eq!(errors[0].file, PathBuf::from("x.toml"));
        assert_eq!(errors[0].place, "name");
    }
}
