//! Reads `domains/*.toml` and `tenants/*.toml` from a config directory, parses and validates
//! them, and builds `Packs`, collecting every problem across all files before failing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::domain::DomainPack;
use super::error::{FileProblems, PackError, PackErrors};
use super::raw::{RawDomainPack, RawTenantPack};
use super::registry::Packs;
use super::tenant::TenantPack;
use super::validate::{validate_domain, validate_tenant};

/// Sub-folder of the config directory holding domain packs.
pub const DOMAINS_DIR: &str = "domains";
/// Sub-folder of the config directory holding tenant packs.
pub const TENANTS_DIR: &str = "tenants";

/// The text of one pack file and where it came from (used in error messages).
#[derive(Debug, Clone)]
pub struct PackSource {
    pub path: PathBuf,
    pub text: String,
}

impl Packs {
    /// Loads `dir/domains/*.toml` and `dir/tenants/*.toml`; fails with every problem found.
    pub fn load(dir: &Path) -> Result<Packs, PackErrors> {
        let mut errors = Vec::new();
        if !dir.is_dir() {
            errors.push(problem(dir, "directory", "pack directory does not exist"));
            return Err(PackErrors(errors));
        }
        let domains_dir = dir.join(DOMAINS_DIR);
        let tenants_dir = dir.join(TENANTS_DIR);
        let domains = read_toml_files(&domains_dir, &mut errors);
        let tenants = read_toml_files(&tenants_dir, &mut errors);
        if domains.as_ref().is_some_and(Vec::is_empty) {
            errors.push(problem(
                &domains_dir,
                "directory",
                "no domain packs (*.toml) found",
            ));
        }
        if tenants.as_ref().is_some_and(Vec::is_empty) {
            errors.push(problem(
                &tenants_dir,
                "directory",
                "no tenant packs (*.toml) found",
            ));
        }
        build(
            &domains.unwrap_or_default(),
            &tenants.unwrap_or_default(),
            errors,
        )
    }

    /// Builds packs from already-read pack texts (no I/O); same validation as `load`.
    pub fn from_sources(
        domains: &[PackSource],
        tenants: &[PackSource],
    ) -> Result<Packs, PackErrors> {
        let mut errors = Vec::new();
        if domains.is_empty() {
            errors.push(problem(
                Path::new(DOMAINS_DIR),
                "sources",
                "no domain packs given",
            ));
        }
        if tenants.is_empty() {
            errors.push(problem(
                Path::new(TENANTS_DIR),
                "sources",
                "no tenant packs given",
            ));
        }
        build(domains, tenants, errors)
    }
}

fn build(
    domain_sources: &[PackSource],
    tenant_sources: &[PackSource],
    mut errors: Vec<PackError>,
) -> Result<Packs, PackErrors> {
    let domains = build_domains(domain_sources, &mut errors);
    let tenants = build_tenants(tenant_sources, &domains, &mut errors);
    if errors.is_empty() {
        Ok(Packs::new(domains, tenants))
    } else {
        Err(PackErrors(errors))
    }
}

fn build_domains(
    sources: &[PackSource],
    errors: &mut Vec<PackError>,
) -> BTreeMap<String, Arc<DomainPack>> {
    let mut domains: BTreeMap<String, Arc<DomainPack>> = BTreeMap::new();
    let mut defined_in: BTreeMap<String, PathBuf> = BTreeMap::new();
    for source in sources {
        let mut problems = FileProblems::new(&source.path);
        if let Some(raw) = parse::<RawDomainPack>(source, &mut problems) {
            let domain = validate_domain(raw, &mut problems);
            if let Some(first) = defined_in.get(&domain.name) {
                let reason = format!(
                    "domain '{}' is already defined in {}",
                    domain.name,
                    first.display()
                );
                problems.report("name", reason);
            } else {
                defined_in.insert(domain.name.clone(), source.path.clone());
                domains.insert(domain.name.clone(), Arc::new(domain));
            }
        }
        errors.extend(problems.into_errors());
    }
    domains
}

fn build_tenants(
    sources: &[PackSource],
    domains: &BTreeMap<String, Arc<DomainPack>>,
    errors: &mut Vec<PackError>,
) -> BTreeMap<String, TenantPack> {
    let mut tenants: BTreeMap<String, TenantPack> = BTreeMap::new();
    let mut defined_in: BTreeMap<String, PathBuf> = BTreeMap::new();
    for source in sources {
        let mut problems = FileProblems::new(&source.path);
        let tenant = parse::<RawTenantPack>(source, &mut problems)
            .and_then(|raw| validate_tenant(raw, domains, &mut problems));
        if let Some(tenant) = tenant {
            if let Some(first) = defined_in.get(&tenant.tenant_id) {
                let reason = format!(
                    "tenant '{}' is already defined in {}",
                    tenant.tenant_id,
                    first.display()
                );
                problems.report("tenant_id", reason);
            } else if let Some(twin) = tenants
                .values()
                .find(|other| other.api_key_sha256 == tenant.api_key_sha256)
            {
                problems.report(
                    "api_key_sha256",
                    format!("same API key hash as tenant '{}'", twin.tenant_id),
                );
            } else {
                defined_in.insert(tenant.tenant_id.clone(), source.path.clone());
                tenants.insert(tenant.tenant_id.clone(), tenant);
            }
        }
        errors.extend(problems.into_errors());
    }
    tenants
}

fn parse<T: DeserializeOwned>(source: &PackSource, problems: &mut FileProblems) -> Option<T> {
    match toml::from_str::<T>(&source.text) {
        Ok(raw) => Some(raw),
        Err(error) => {
            let place = error
                .span()
                .map(|span| line_and_column(&source.text, span.start))
                .unwrap_or_else(|| "file".to_string());
            problems.report(place, error.message().trim().to_string());
            None
        }
    }
}

/// `line L, column C` (both 1-based, column in characters) of a byte offset.
fn line_and_column(text: &str, byte_offset: usize) -> String {
    let before = text.get(..byte_offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("line {line}, column {column}")
}

/// Reads every `*.toml` file of a directory, sorted by name; `None` (reported) when the
/// directory cannot be read.
fn read_toml_files(dir: &Path, errors: &mut Vec<PackError>) -> Option<Vec<PackSource>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(problem(
                dir,
                "directory",
                format!("cannot read directory: {error}"),
            ));
            return None;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let sources = paths
        .into_iter()
        .filter_map(|path| match fs::read_to_string(&path) {
            Ok(text) => Some(PackSource { path, text }),
            Err(error) => {
                errors.push(problem(&path, "file", format!("cannot read file: {error}")));
                None
            }
        })
        .collect();
    Some(sources)
}

fn problem(file: &Path, place: &str, reason: impl Into<String>) -> PackError {
    PackError {
        file: file.to_path_buf(),
        place: place.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let cases = [
            (0, "line 1, column 1"),
            (4, "line 2, column 1"),
            (6, "line 2, column 3"),
        ];
        for (offset, expected) in cases {
            assert_eq!(
                line_and_column("abc\nxyz", offset),
                expected,
                "offset {offset}"
            );
        }
    }
}
