//! The export's source, from an observed run: what `apply` would create in each account, with
//! the filters each account already has (to reference rather than declare them again).

use super::Observed;
use crate::audit::org;
use crate::export::{self, AccountPart, KnownFilter, Source};
use crate::inventory::{self, Snapshot};

/// What the export declares for the run's accounts, `controls` selected.
pub fn source(observed: &Observed, controls: Vec<String>, generator: String) -> Source {
    match observed {
        Observed::One(one) => Source {
            generator,
            generated_at: export::now_utc(),
            benchmark: one.plan.benchmark.clone(),
            controls,
            caller_account: one.plan.account_id.clone(),
            region: one.session.region.clone(),
            partition: inventory::partition_of(&one.session.region).to_string(),
            role: None,
            external_id: false,
            accounts: vec![AccountPart {
                account_id: one.plan.account_id.clone(),
                actions: one.plan.actions.clone(),
                controls: one.plan.controls.clone(),
                filters: known_filters(&one.snapshot),
            }],
        },
        Observed::Many(many) => {
            let actions = org::actions_by_account(&many.plan);
            let accounts = many
                .plan
                .accounts
                .iter()
                .map(|report| {
                    let snapshot = many
                        .reads
                        .reads
                        .iter()
                        .find(|r| r.account_id == report.account_id)
                        .and_then(|r| r.snapshot.as_ref().ok());
                    AccountPart {
                        account_id: report.account_id.clone(),
                        actions: actions
                            .iter()
                            .find(|(account, _)| *account == report.account_id)
                            .map(|(_, actions)| actions.clone())
                            .unwrap_or_default(),
                        controls: report.controls.clone(),
                        filters: snapshot.map(known_filters).unwrap_or_default(),
                    }
                })
                .collect();
            Source {
                generator,
                generated_at: export::now_utc(),
                benchmark: many.plan.benchmark.clone(),
                controls,
                caller_account: many.reads.caller.account.clone(),
                region: many.session.region.clone(),
                partition: many.reads.caller.partition.clone(),
                role: Some(many.reach.role.clone()),
                external_id: many.reach.external_id.is_some(),
                accounts,
            }
        }
    }
}

fn known_filters(snapshot: &Snapshot) -> Vec<KnownFilter> {
    snapshot
        .regions
        .iter()
        .flat_map(|(region, data)| {
            data.metric_filters.iter().map(move |f| KnownFilter {
                region: region.clone(),
                log_group: f.log_group.clone(),
                name: f.name.clone(),
                metric_namespace: f.metric_namespace.clone(),
                metric_name: f.metric_name.clone(),
            })
        })
        .collect()
}
