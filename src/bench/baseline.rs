//! The baseline of the benchmark: a trivial relay role that consumes ExceptionIngested, claims
//! the event in processed_events (the handler does that) and emits one event. It measures what
//! the bus and the database allow on a machine, so the pipeline's numbers can be read as a ratio.

use async_trait::async_trait;
use serde_json::json;

use crate::model::{topics, RoleName};
use crate::roles::{Role, RoleContext, RoleError};

pub const BASELINE_EVENT: &str = "BaselineRelayed";

pub struct BaselineRelay;

#[async_trait(?Send)]
impl Role for BaselineRelay {
    fn name(&self) -> RoleName {
        RoleName::Intake
    }

    fn input_topics(&self) -> &'static [&'static str] {
        &[topics::INGESTED]
    }

    fn accepts(&self, topic: &str, event_type: &str) -> bool {
        topic == topics::INGESTED && event_type == crate::model::event_types::EXCEPTION_INGESTED
    }

    async fn handle(&self, ctx: &mut RoleContext<'_>) -> Result<(), RoleError> {
        let exception_id = ctx.required_exception_id()?;
        ctx.emit(
            topics::FEEDBACK,
            BASELINE_EVENT,
            exception_id,
            json!({ "relayed": true }),
        );
        Ok(())
    }
}
