//! Short names for every entity, for `use entity::prelude::*`.

pub use super::bus_partitions::Entity as BusPartitions;
pub use super::consumer_offsets::Entity as ConsumerOffsets;
pub use super::dead_letters::Entity as DeadLetters;
pub use super::events::Entity as Events;
pub use super::exceptions::Entity as Exceptions;
pub use super::feedback::Entity as Feedback;
pub use super::leases::Entity as Leases;
pub use super::playbook_steps::Entity as PlaybookSteps;
pub use super::processed_events::Entity as ProcessedEvents;
pub use super::tool_executions::Entity as ToolExecutions;
pub use super::workers::Entity as Workers;
