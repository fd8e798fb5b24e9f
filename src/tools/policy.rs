//! Pre-flight rules: a tool must be declared and enabled for the tenant, and an http tool's URL
//! must be https or plain http to an allow-listed host.

use std::collections::BTreeSet;

use reqwest::Url;

use super::failure::{FailureKind, ToolFailure};
use crate::packs::{TenantPack, ToolDefinition};

/// The declared tool, or `UnknownTool` when the domain pack does not declare it.
pub(crate) fn declared<'a>(
    tool: Option<&'a ToolDefinition>,
    tool_name: &str,
) -> Result<&'a ToolDefinition, ToolFailure> {
    tool.ok_or_else(|| {
        ToolFailure::new(
            FailureKind::UnknownTool,
            format!("tool '{tool_name}' is not declared"),
        )
    })
}

/// `Disabled` unless the tenant lists the tool in `enabled_tools`.
pub(crate) fn enabled(tenant: &TenantPack, tool_name: &str) -> Result<(), ToolFailure> {
    if tenant.tool_enabled(tool_name) {
        Ok(())
    } else {
        Err(ToolFailure::new(
            FailureKind::Disabled,
            format!(
                "tool '{tool_name}' is not enabled for tenant '{}'",
                tenant.tenant_id
            ),
        ))
    }
}

/// Parses `url` and accepts https to any host, or http to a host in `allowed_hosts` (exact,
/// ASCII case-insensitive; IPv6 hosts may be listed with or without brackets).
pub(crate) fn allowed_url(url: &str, allowed_hosts: &BTreeSet<String>) -> Result<Url, ToolFailure> {
    let not_allowed = |why: String| ToolFailure::new(FailureKind::NotAllowed, why);
    let parsed = Url::parse(url).map_err(|error| not_allowed(format!("'{url}': {error}")))?;
    let Some(host) = parsed.host_str() else {
        return Err(not_allowed(format!("'{url}' has no host")));
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if host_listed(host, allowed_hosts) => Ok(parsed),
        "http" => Err(not_allowed(format!(
            "'{url}' is plain http and host '{host}' is not in the allowed hosts"
        ))),
        scheme => Err(not_allowed(format!(
            "'{url}' uses scheme '{scheme}'; only https (or http to an allowed host) is called"
        ))),
    }
}

fn host_listed(host: &str, allowed_hosts: &BTreeSet<String>) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    allowed_hosts.iter().any(|allowed| {
        let allowed = allowed.trim();
        let allowed_bare = allowed.trim_start_matches('[').trim_end_matches(']');
        allowed.eq_ignore_ascii_case(host) || allowed_bare.eq_ignore_ascii_case(bare)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|host| host.to_string()).collect()
    }

    #[test]
    fn https_is_allowed_to_any_host() {
        assert!(allowed_url("https://api.example.com/x", &hosts(&[])).is_ok());
        assert!(allowed_url("https://api.example.com/x", &hosts(&["localhost"])).is_ok());
    }

    #[test]
    fn plain_http_needs_an_exactly_listed_host() {
        let list = hosts(&["127.0.0.1", "LocalHost", "::1"]);
        let cases = [
            ("http://127.0.0.1:8080/hook", true),
            ("http://localhost/hook", true),
            ("http://[::1]:9000/", true),
            ("http://127.0.0.2/hook", false),
            ("http://localhost.evil.com/hook", false),
            ("http://evil.com/127.0.0.1", false),
            ("http://127.0.0.1@evil.com/", false),
        ];
        for (url, ok) in cases {
            let result = allowed_url(url, &list);
            assert_eq!(result.is_ok(), ok, "{url}: {result:?}");
            if let Err(failure) = result {
                assert_eq!(failure.kind, FailureKind::NotAllowed);
            }
        }
    }

    #[test]
    fn other_schemes_and_garbage_are_not_allowed() {
        let list = hosts(&["127.0.0.1"]);
        for url in [
            "ftp://127.0.0.1/x",
            "file:///etc/passwd",
            "not a url",
            "https://",
        ] {
            let failure = allowed_url(url, &list).unwrap_err();
            assert_eq!(failure.kind, FailureKind::NotAllowed, "{url}");
        }
    }

    #[test]
    fn undeclared_tool_is_unknown() {
        let failure = declared(None, "ghost").unwrap_err();
        assert_eq!(failure.kind, FailureKind::UnknownTool);
        assert!(failure.reason.contains("ghost"));
    }
}
