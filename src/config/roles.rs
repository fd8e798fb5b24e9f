//! Which roles a process runs (`--roles` or WORKER_TYPE), and hiding secrets in URLs.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::model::RoleName;

/// Every role this version can run (`--roles all`).
pub const AVAILABLE_ROLES: [RoleName; 7] = RoleName::ALL;

/// The roles of `--roles`, else of WORKER_TYPE (`worker_type`); a problem for each bad name.
pub(super) fn parse_roles(
    worker_type: Option<&str>,
    roles_flag: Option<&str>,
    need_roles: bool,
    problems: &mut Vec<String>,
) -> Vec<RoleName> {
    let (source, raw) = match (roles_flag, worker_type) {
        (Some(flag), _) => ("--roles", flag),
        (None, Some(worker_type)) => ("WORKER_TYPE", worker_type),
        (None, None) => {
            if need_roles {
                problems.push("WORKER_TYPE: required unless --roles is given (e.g. WORKER_TYPE=intake or --roles all)".to_owned());
            }
            return Vec::new();
        }
    };
    let mut roles = BTreeSet::new();
    for name in raw.split(',').map(str::trim) {
        if name.is_empty() {
            problems.push(format!("{source}: empty role name in '{raw}'"));
        } else if name == "all" {
            roles.extend(AVAILABLE_ROLES);
        } else {
            match RoleName::from_str(name) {
                Ok(role) => {
                    roles.insert(role);
                }
                Err(reason) => problems.push(format!("{source}: {reason}")),
            }
        }
    }
    roles.into_iter().collect()
}

/// Hides the password of a `scheme://user:password@host/...` URL for logs and errors.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}
