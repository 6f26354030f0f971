//! `scimdrift verify`: re-reads Slack for the accounts of a plan, a journal, a list of emails or
//! every JumpCloud-inactive user, and says which are really deactivated. GET only.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::cli::{Format, GlobalArgs, VerifyArgs};
use crate::error::Error;
use crate::model::Email;
use crate::remote::slack::SlackFetch;
use crate::report::ExitStatus;
use crate::source::Snapshot;

/// What was found for one target.
#[derive(Clone, Debug, Serialize)]
struct Check {
    /// The id or email asked about.
    target: String,
    /// The Slack account, when found.
    slack_user_id: Option<String>,
    /// Its primary email, when found.
    email: Option<String>,
    /// `deactivated`, `still-active` or `not-found`.
    status: &'static str,
}

enum Targets {
    Ids(Vec<String>),
    Emails(Vec<String>),
}

fn targets(args: &VerifyArgs) -> Result<Targets, Error> {
    if let Some(plan) = &args.plan {
        let (plan, _) = super::read_plan(plan)?;
        return Ok(Targets::Ids(
            plan.actions.into_iter().map(|a| a.slack_user_id).collect(),
        ));
    }
    if let Some(journal) = &args.journal {
        let records = super::journal::read(journal)?;
        // Every account the journal names, a `patching` record's included: after a crash
        // between a PATCH and its outcome, that account is the one most in need of a check.
        let ids: std::collections::BTreeSet<String> = records
            .into_iter()
            .filter_map(|r| r.slack_user_id)
            .collect();
        return Ok(Targets::Ids(ids.into_iter().collect()));
    }
    if let Some(file) = &args.emails {
        let text = std::fs::read_to_string(file).map_err(|source| crate::source::Error::Read {
            path: file.clone(),
            source,
        })?;
        let mut emails = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let raw = line.split('#').next().unwrap_or_default().trim();
            let Some(email) = Email::parse(raw) else {
                continue;
            };
            if let Some(problem) = email.problem() {
                return Err(crate::source::Error::Record {
                    path: file.clone(),
                    record: format!("line {}", i + 1),
                    problem: format!("`{raw}` {problem}"),
                }
                .into());
            }
            emails.push(raw.to_owned());
        }
        return Ok(Targets::Emails(emails));
    }
    let path = args.jumpcloud.as_deref().unwrap_or(Path::new("."));
    let jc = crate::source::load_jumpcloud(path)?;
    if !jc.problems.is_empty() {
        return Err(crate::source::Error::Incomplete {
            what: "JumpCloud export",
            problems: jc.problems,
            hint: crate::source::RERUN,
        }
        .into());
    }
    Ok(Targets::Emails(
        jc.data
            .users
            .iter()
            .filter(|u| u.inactive_reason().is_some())
            .map(|u| u.email.as_str().to_owned())
            .collect(),
    ))
}

/// `scimdrift verify`.
pub fn verify(global: &GlobalArgs, args: &VerifyArgs) -> Result<ExitStatus, Error> {
    let targets = targets(args)?;
    let ids_from = if args.plan.is_some() {
        Some("of the plan")
    } else if args.journal.is_some() {
        Some("the journal names")
    } else {
        None
    };
    let (client, base) = super::slack_client(
        &args.slack_url,
        args.token_file.as_deref(),
        &args.net,
        args.max_reads_per_minute,
        1,
    )?;
    let version = super::version_of(&base, args.scim_version)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(crate::remote::slack::check_base(&client))?;
    let mut checks = Vec::new();
    match targets {
        Targets::Ids(ids) => {
            for id in ids {
                let path = format!("/Users/{id}");
                let check = match runtime.block_on(client.get(&path)) {
                    Ok(body) => {
                        let user = crate::remote::slack::user_of(&body, &id)?;
                        Check {
                            target: id.clone(),
                            slack_user_id: Some(user.id.clone()),
                            email: Some(user.primary_email().as_str().to_owned()),
                            status: if user.active {
                                "still-active"
                            } else {
                                "deactivated"
                            },
                        }
                    }
                    Err(crate::remote::Error::Status {
                        scim_not_found: true,
                        ..
                    }) => Check {
                        target: id.clone(),
                        slack_user_id: None,
                        email: None,
                        status: "not-found",
                    },
                    Err(e) => return Err(e.into()),
                };
                checks.push(check);
            }
        }
        Targets::Emails(emails) => {
            // One paged read of the whole listing beats one filtered query per email.
            let mut snapshot = Snapshot::new(base.as_str());
            let opts = SlackFetch {
                version,
                page_size: 1000,
                concurrency: usize::from(args.net.concurrency),
                max_rereads: args.net.max_rereads,
                groups: false,
            };
            runtime.block_on(crate::remote::slack::fetch(
                &client,
                &opts,
                &mut snapshot,
                &indicatif::ProgressBar::hidden(),
            ))?;
            let root = snapshot.root().to_path_buf();
            let listing = crate::source::load_slack_from(&snapshot, &[root])?;
            let mut by_email: HashMap<&Email, Vec<&crate::model::SlackUser>> = HashMap::new();
            for u in &listing.data.users {
                for e in &u.emails {
                    by_email.entry(e).or_default().push(u);
                }
            }
            for raw in emails {
                let Some(email) = Email::parse(&raw) else {
                    continue;
                };
                match by_email.get(&email) {
                    None => checks.push(Check {
                        target: raw,
                        slack_user_id: None,
                        email: Some(email.as_str().to_owned()),
                        status: "not-found",
                    }),
                    Some(users) => {
                        for u in users {
                            checks.push(Check {
                                target: raw.clone(),
                                slack_user_id: Some(u.id.clone()),
                                email: Some(u.primary_email().as_str().to_owned()),
                                status: if u.active {
                                    "still-active"
                                } else {
                                    "deactivated"
                                },
                            });
                        }
                    }
                }
            }
        }
    }
    let mut summary: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &checks {
        *summary.entry(c.status).or_insert(0) += 1;
    }
    // Ids come from a Slack listing, and Slack never deletes accounts: when none is found, the
    // token opens another organisation, and "nothing still active" would be a false all-clear.
    // (An email may well have no account, so `--emails` and `--jumpcloud` are not judged so.)
    if let Some(what) = ids_from
        && !checks.is_empty()
        && summary.get("not-found") == Some(&checks.len())
    {
        return Err(super::Refusal::NoneFound {
            count: checks.len(),
            what,
            also: "",
            base: base.as_str().to_owned(),
        }
        .into());
    }
    let mut buf = Vec::new();
    render(&checks, &summary, base.as_str(), global.format, &mut buf).map_err(Error::Output)?;
    crate::deliver(global, &buf)?;
    let active = summary.get("still-active").copied().unwrap_or(0);
    if global.quiet == 0 {
        let _ = writeln!(
            std::io::stderr().lock(),
            "scimdrift: verified {} account(s): {} deactivated, {active} still active, {} not found",
            checks.len(),
            summary.get("deactivated").copied().unwrap_or(0),
            summary.get("not-found").copied().unwrap_or(0)
        );
    }
    Ok(if active > 0 {
        ExitStatus::Drift
    } else {
        ExitStatus::Clean
    })
}

#[derive(Serialize)]
struct VerifyView<'a> {
    schema_version: u32,
    kind: &'static str,
    checked_at: String,
    base_url: &'a str,
    summary: &'a BTreeMap<&'a str, usize>,
    results: &'a [Check],
}

fn render(
    checks: &[Check],
    summary: &BTreeMap<&str, usize>,
    base: &str,
    format: Format,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let view = VerifyView {
                schema_version: 1,
                kind: "scimdrift-verify",
                checked_at: crate::now().to_string(),
                base_url: base,
                summary,
                results: checks,
            };
            serde_json::to_writer_pretty(&mut *out, &view)?;
            writeln!(out)
        }
        other => {
            let rows = crate::render::rows::Rows {
                title: "verify",
                header: vec!["Target", "Slack", "Email", "Status"],
                rows: checks
                    .iter()
                    .map(|c| {
                        (
                            vec![
                                c.target.clone(),
                                c.slack_user_id.clone().unwrap_or_else(|| "-".to_owned()),
                                c.email.clone().unwrap_or_else(|| "-".to_owned()),
                                c.status.to_owned(),
                            ],
                            (c.status == "still-active")
                                .then(|| "still active in Slack".to_owned()),
                        )
                    })
                    .collect(),
                footer: checks.is_empty().then(|| "Nothing to verify.".to_owned()),
            };
            crate::render::rows::write(&rows, other, out)
        }
    }
}
