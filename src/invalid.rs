//! `InvalidInput`: why a raw exception or an event's content was refused, in the words a client
//! or an operator reads (the API's 400 body, `ingest`'s report, a dead letter's reason).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

impl From<String> for InvalidInput {
    fn from(reason: String) -> Self {
        Self(reason)
    }
}

impl From<&str> for InvalidInput {
    fn from(reason: &str) -> Self {
        Self(reason.to_owned())
    }
}
