//! The overseer's maintenance children (SLA monitor, outbox sweeper, retention task, heartbeat):
//! how each is started, and the supervision that restarts one found stopped (it crashed or
//! was stopped by a drill) against the restart budget, past which the process is marked
//! failed. On shutdown the overseer takes them out and stops them in order.

use actix::prelude::*;

use crate::config::kafka::SweeperSettings;
use crate::config::retention::RetentionSettings;
use crate::config::SlaSettings;
use crate::consumer::RoleConsumer;
use crate::heartbeat::{Heartbeat, ProcessIdentity, StopHeartbeat};
use crate::model::RoleName;
use crate::restart_budget::RestartBudget;
use crate::retention::{RetentionTask, StopRetention};
use crate::runtime::Runtime;
use crate::sla_monitor::{SlaMonitor, StopMonitor};
use crate::sweeper::{OutboxSweeper, StopSweeping};

/// How the maintenance actors run: the outbox sweeper (when the bus publishes through an
/// outbox) and the retention task, each under a lease so one process of the fleet does it; the
/// SLA monitor when sla_monitor is among the roles; and this process's heartbeat in `workers`.
pub struct MaintenancePlan {
    pub instance_id: String,
    pub sweeper: Option<SweeperSettings>,
    pub retention: RetentionSettings,
    /// When sla_monitor is among the roles.
    pub sla: Option<SlaSettings>,
    pub identity: ProcessIdentity,
}

/// One maintenance child, for drills and for the restart metric's `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceChild {
    SlaMonitor,
    Sweeper,
    Retention,
    Heartbeat,
}

impl MaintenanceChild {
    pub const ALL: [MaintenanceChild; 4] = [
        MaintenanceChild::SlaMonitor,
        MaintenanceChild::Sweeper,
        MaintenanceChild::Retention,
        MaintenanceChild::Heartbeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceChild::SlaMonitor => "sla_monitor",
            MaintenanceChild::Sweeper => "outbox_sweeper",
            MaintenanceChild::Retention => "retention",
            MaintenanceChild::Heartbeat => "heartbeat",
        }
    }
}

/// The `role` label of the maintenance children's restarts and failure.
const MAINTENANCE_ROLE: &str = "maintenance";

/// The running maintenance children and what restarting one takes.
pub struct Maintenance {
    runtime: Runtime,
    plan: MaintenancePlan,
    /// Each consumer role with its consumer, which the heartbeat asks for its partitions.
    consumers: Vec<(RoleName, Addr<RoleConsumer>)>,
    budget: RestartBudget,
    failed: bool,
    pub sla_monitor: Option<Addr<SlaMonitor>>,
    pub sweeper: Option<Addr<OutboxSweeper>>,
    pub retention: Option<Addr<RetentionTask>>,
    pub heartbeat: Option<Addr<Heartbeat>>,
}

impl Maintenance {
    /// Starts every child the plan asks for.
    pub fn start(
        runtime: Runtime,
        plan: MaintenancePlan,
        consumers: Vec<(RoleName, Addr<RoleConsumer>)>,
    ) -> Self {
        let mut maintenance = Self {
            budget: RestartBudget::from_tuning(&runtime.tuning),
            runtime,
            plan,
            consumers,
            failed: false,
            sla_monitor: None,
            sweeper: None,
            retention: None,
            heartbeat: None,
        };
        for child in MaintenanceChild::ALL {
            maintenance.start_child(child);
        }
        maintenance
    }

    fn start_child(&mut self, child: MaintenanceChild) {
        let runtime = &self.runtime;
        let plan = &self.plan;
        let holder = plan.instance_id.clone();
        match child {
            MaintenanceChild::SlaMonitor => {
                self.sla_monitor = plan
                    .sla
                    .clone()
                    .map(|settings| SlaMonitor::new(runtime, holder, settings).start());
            }
            MaintenanceChild::Sweeper => {
                self.sweeper = plan
                    .sweeper
                    .clone()
                    .filter(|_| runtime.bus.has_outbox())
                    .map(|settings| OutboxSweeper::new(runtime, holder, settings).start());
            }
            MaintenanceChild::Retention => {
                let retention = RetentionTask::new(runtime, plan.retention.clone(), holder);
                self.retention = Some(retention.start());
            }
            MaintenanceChild::Heartbeat => {
                let identity = plan.identity.clone();
                let heartbeat = Heartbeat::new(runtime, identity, self.consumers.clone());
                self.heartbeat = Some(heartbeat.start());
            }
        }
    }

    /// Whether `child` runs (it was started and has not stopped).
    fn running(&self, child: MaintenanceChild) -> Option<bool> {
        match child {
            MaintenanceChild::SlaMonitor => self.sla_monitor.as_ref().map(Addr::connected),
            MaintenanceChild::Sweeper => self.sweeper.as_ref().map(Addr::connected),
            MaintenanceChild::Retention => self.retention.as_ref().map(Addr::connected),
            MaintenanceChild::Heartbeat => self.heartbeat.as_ref().map(Addr::connected),
        }
    }

    /// Restarts each child found stopped while the budget lasts; past it, the process is
    /// marked failed (liveness goes red) and the child stays stopped.
    pub fn restart_stopped(&mut self) {
        for child in MaintenanceChild::ALL {
            if self.failed || self.running(child) != Some(false) {
                continue;
            }
            let within_budget =
                self.budget
                    .charge(MAINTENANCE_ROLE, child.as_str(), &self.runtime, |budget| {
                        budget.exhausted("maintenance")
                    });
            if !within_budget {
                self.failed = true;
                return;
            }
            tracing::warn!(
                child = child.as_str(),
                "Maintenance actor stopped; restarting it."
            );
            self.start_child(child);
        }
    }

    /// Stops `child` with its own stop message (the heartbeat leaves its row, as a crash does),
    /// for drills; supervision then restarts it. False when it does not run here.
    pub fn stop_child(&self, child: MaintenanceChild) -> bool {
        match child {
            MaintenanceChild::SlaMonitor => self
                .sla_monitor
                .as_ref()
                .map(|addr| addr.do_send(StopMonitor)),
            MaintenanceChild::Sweeper => {
                self.sweeper.as_ref().map(|addr| addr.do_send(StopSweeping))
            }
            MaintenanceChild::Retention => self
                .retention
                .as_ref()
                .map(|addr| addr.do_send(StopRetention)),
            MaintenanceChild::Heartbeat => self
                .heartbeat
                .as_ref()
                .map(|addr| addr.do_send(StopHeartbeat { remove_row: false })),
        }
        .is_some()
    }
}
