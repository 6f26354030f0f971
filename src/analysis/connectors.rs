//! Which JumpCloud applications are Slack connectors, who is entitled to them, and the groups
//! bound to several (`multi-connector-group`).
//!
//! Pure: works on the loaded `JumpCloud` data and the policy only.

use std::collections::{BTreeMap, BTreeSet};

use super::{Finding, FindingCode};
use crate::model::{JcApp, JumpCloud};

/// How an application was recognised as a Slack connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectedBy {
    /// `slack_app_ids` in the config or on the command line.
    Configured,
    /// `slack_app_ids` in the bundle's `manifest.json`.
    Manifest,
    /// `--slack-app ID`.
    SlackAppFlag,
    /// `name == "slack"`.
    Name,
    /// "slack" in `displayName` or `displayLabel`.
    Label,
    /// ACS URL / SP entity id under `slack.com`.
    SpUrl,
}

impl DetectedBy {
    /// Words for the notice that lists the connectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configured => "configured slack_app_ids",
            Self::Manifest => "manifest slack_app_ids",
            Self::SlackAppFlag => "--slack-app",
            Self::Name => "name is \"slack\"",
            Self::Label => "label mentions Slack",
            Self::SpUrl => "ACS URL under slack.com",
        }
    }
}

/// The Slack connectors found in an export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connectors {
    /// Every Slack connector (for `multi-connector-group`), by id.
    pub all: BTreeMap<String, DetectedBy>,
    /// The connectors the entitlement check uses (all, or the one `--slack-app` names).
    pub scoped: BTreeSet<String>,
}

/// `--slack-app` named an application the export does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--slack-app {id}: no such application in the JumpCloud input")]
pub struct UnknownApp {
    /// The id given.
    pub id: String,
}

fn is_slack_host(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host == "slack.com" || host.ends_with(".slack.com")
}

fn heuristic(app: &JcApp) -> Option<DetectedBy> {
    let contains_slack = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|v| v.to_ascii_lowercase().contains("slack"))
    };
    if app
        .name
        .as_deref()
        .is_some_and(|n| n.trim().eq_ignore_ascii_case("slack"))
    {
        Some(DetectedBy::Name)
    } else if contains_slack(&app.display_name) || contains_slack(&app.display_label) {
        Some(DetectedBy::Label)
    } else if app.sp_url.as_deref().is_some_and(is_slack_host) {
        Some(DetectedBy::SpUrl)
    } else {
        None
    }
}

/// Finds the Slack connectors: configured ids, else the manifest's, else the heuristic over the
/// applications listing (DESIGN §3). `--slack-app` adds its id and narrows the scope to it.
pub fn detect(
    jc: &JumpCloud,
    configured: &[String],
    slack_app: Option<&str>,
) -> Result<Connectors, UnknownApp> {
    let mut all = BTreeMap::new();
    if !configured.is_empty() {
        for id in configured {
            all.insert(id.clone(), DetectedBy::Configured);
        }
    } else if let Some(ids) = jc.manifest_slack_app_ids.as_ref().filter(|v| !v.is_empty()) {
        for id in ids {
            all.insert(id.clone(), DetectedBy::Manifest);
        }
    } else {
        for app in &jc.applications {
            if let Some(by) = heuristic(app) {
                all.insert(app.id.clone(), by);
            }
        }
    }
    let scoped = match slack_app {
        Some(id) => {
            let known = all.contains_key(id)
                || jc.applications.iter().any(|a| a.id == id)
                || jc.app_users.contains_key(id)
                || jc
                    .groups
                    .iter()
                    .flatten()
                    .any(|g| g.application_ids.iter().any(|a| a == id));
            if !known {
                return Err(UnknownApp { id: id.to_owned() });
            }
            all.entry(id.to_owned()).or_insert(DetectedBy::SlackAppFlag);
            BTreeSet::from([id.to_owned()])
        }
        None => all.keys().cloned().collect(),
    };
    Ok(Connectors { all, scoped })
}

/// What the export says about each scoped connector's users: `(blind, groups_only)`. Blind
/// connectors are in the applications listing but have neither an `applications/<id>/users`
/// listing nor a group bound to them, so whom they provision is unknown; groups-only ones have bound groups but no users listing, so
/// users bound to them directly (JumpCloud allows it) cannot be seen.
pub fn coverage(jc: &JumpCloud, connectors: &Connectors) -> (Vec<String>, Vec<String>) {
    let bound = |app: &String| {
        jc.groups
            .iter()
            .flatten()
            .any(|g| g.application_ids.contains(app))
    };
    let mut blind = Vec::new();
    let mut groups_only = Vec::new();
    for app in &connectors.scoped {
        // A configured id the applications listing lacks (an app since deleted) provisions
        // nobody: `fetch` skips it on purpose.
        if jc.app_users.contains_key(app) || !jc.applications.iter().any(|a| &a.id == app) {
            continue;
        }
        if bound(app) {
            groups_only.push(app.clone());
        } else {
            blind.push(app.clone());
        }
    }
    (blind, groups_only)
}

/// The users entitled to the scoped connectors: listed in `applications/<id>/users`, or members
/// (directly or through nested groups) of a group bound to one, as one flag per JumpCloud user
/// (`position` maps an id to its index). `None` when the export holds no binding at all for
/// them, or when one of them is blind (see [`coverage`]): its users would all look unentitled,
/// so entitlement cannot be judged.
pub fn entitled_users(
    jc: &JumpCloud,
    connectors: &Connectors,
    position: impl Fn(&str) -> Option<usize>,
) -> Option<Vec<bool>> {
    if !coverage(jc, connectors).0.is_empty() {
        return None;
    }
    let mut entitled = vec![false; jc.users.len()];
    let mut mark = |id: &String| {
        if let Some(i) = position(id) {
            entitled[i] = true;
        }
    };
    let mut has_binding = false;
    for app in &connectors.scoped {
        if let Some(users) = jc.app_users.get(app) {
            has_binding = true;
            users.iter().for_each(&mut mark);
        }
    }
    if let Some(groups) = &jc.groups {
        let by_id: BTreeMap<&str, usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.as_str(), i))
            .collect();
        let mut visited = vec![false; groups.len()];
        let mut stack: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                g.application_ids
                    .iter()
                    .any(|a| connectors.scoped.contains(a))
            })
            .map(|(i, _)| i)
            .collect();
        has_binding |= !stack.is_empty();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) {
                continue;
            }
            let group = &groups[i];
            group.member_user_ids.iter().for_each(&mut mark);
            stack.extend(
                group
                    .member_group_ids
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()).copied()),
            );
        }
    }
    has_binding.then_some(entitled)
}

pub(super) fn multi_connector_groups(
    jc: &JumpCloud,
    connectors: &Connectors,
    findings: &mut Vec<Finding>,
) {
    let Some(groups) = &jc.groups else {
        return;
    };
    let direct: Vec<BTreeSet<&String>> = groups
        .iter()
        .map(|g| {
            g.application_ids
                .iter()
                .filter(|a| connectors.all.contains_key(*a))
                .collect()
        })
        .collect();
    // Parents of each group (the groups that list it as a member): a member of a nested group
    // is provisioned by its parents' connectors too.
    let position: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.id.as_str(), i))
        .collect();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (p, g) in groups.iter().enumerate() {
        for child in &g.member_group_ids {
            if let Some(&c) = position.get(child.as_str()) {
                parents[c].push(p);
            }
        }
    }
    // Each group's ancestors (the groups it is nested in, transitively; cycles allowed) and
    // the connectors they and it are bound to.
    let ancestors: Vec<BTreeSet<usize>> = (0..groups.len())
        .map(|i| {
            let mut seen = BTreeSet::new();
            let mut stack = parents[i].clone();
            while let Some(g) = stack.pop() {
                if seen.insert(g) {
                    stack.extend(parents[g].iter().copied());
                }
            }
            seen
        })
        .collect();
    let effective: Vec<BTreeSet<&String>> = (0..groups.len())
        .map(|i| {
            let mut all = direct[i].clone();
            for &a in &ancestors[i] {
                all.extend(direct[a].iter().copied());
            }
            all
        })
        .collect();
    for (i, group) in groups.iter().enumerate() {
        let name = group.name.as_deref().unwrap_or("(unnamed)");
        let (apps, message) = if direct[i].len() >= 2 {
            let message = format!(
                "JumpCloud group {name} ({}) is bound to {} Slack connectors: removing it from one deactivates its members everywhere",
                group.id,
                direct[i].len()
            );
            (&direct[i], message)
        } else {
            // Bindings split across the nesting expose the members the same way. Reported
            // where the split happens: not below an ancestor bound to two connectors itself,
            // nor below a parent (outside a cycle with this group) that already reaches them all.
            let split_above = ancestors[i].iter().any(|&a| direct[a].len() >= 2)
                || parents[i].iter().any(|&p| {
                    !ancestors[p].contains(&i) && effective[p].is_superset(&effective[i])
                });
            if effective[i].len() < 2 || split_above {
                continue;
            }
            let message = format!(
                "JumpCloud group {name} ({}) reaches {} Slack connectors through the groups it is nested in: removing it from one deactivates its members everywhere",
                group.id,
                effective[i].len()
            );
            (&effective[i], message)
        };
        let mut f = Finding::new(FindingCode::MultiConnectorGroup, message);
        f.jumpcloud_group_id = Some(group.id.clone());
        f.application_ids = apps.iter().map(|a| (*a).clone()).collect();
        findings.push(f);
    }
}

/// Notices on how the connectors were found and why entitlement was not judged.
pub(super) fn describe(
    jc: &JumpCloud,
    connectors: &Connectors,
    judged: bool,
    notices: &mut Vec<String>,
) {
    let heuristic = connectors
        .all
        .values()
        .any(|by| matches!(by, DetectedBy::Name | DetectedBy::Label | DetectedBy::SpUrl));
    if heuristic {
        let list: Vec<String> = connectors
            .all
            .iter()
            .map(|(id, by)| format!("{id} ({})", by.as_str()))
            .collect();
        notices.push(format!(
            "Slack connectors recognised by heuristic: {}; set slack_app_ids to make this explicit",
            list.join(", ")
        ));
    }
    let (blind, groups_only) = coverage(jc, connectors);
    if judged {
        if !groups_only.is_empty() {
            notices.push(format!(
                "entitlement to Slack connector(s) {} judged from group bindings alone (no applications/<id>/users listing): users bound to a connector directly would show as unentitled-but-active",
                groups_only.join(", ")
            ));
        }
        return;
    }
    let why = if jc.groups.is_none() && jc.app_users.is_empty() {
        "the JumpCloud input has no group or application data".to_owned()
    } else if !blind.is_empty() && blind.len() < connectors.scoped.len() {
        format!(
            "the export holds nothing on whom Slack connector(s) {} provision (no applications/<id>/users listing, no group bound): their users would all look unentitled; add the listing, or scope the check with slack_app_ids or --slack-app",
            blind.join(", ")
        )
    } else if connectors.scoped.is_empty() {
        format!(
            "no Slack connector recognised among {} application(s); set slack_app_ids or pass --slack-app",
            jc.applications.len()
        )
    } else {
        "no group is bound to a Slack connector and no applications/<id>/users listing covers one"
            .to_owned()
    };
    notices.push(format!("unentitled-but-active not judged: {why}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JcGroup;

    fn app(id: &str, name: &str, label: &str, url: Option<&str>) -> JcApp {
        JcApp {
            id: id.into(),
            name: Some(name.into()),
            display_name: None,
            display_label: Some(label.into()),
            sp_url: url.map(Into::into),
        }
    }

    #[test]
    fn heuristic_order_and_hosts() {
        let jc = JumpCloud {
            applications: vec![
                app("a", "slack", "Chat", None),
                app("b", "custom", "Our SLACK (labs)", None),
                app("c", "saml", "Chat", Some("https://acme.slack.com/sso/saml")),
                app(
                    "d",
                    "saml",
                    "Evil",
                    Some("https://slack.com.evil.example/x"),
                ),
                app("e", "aws", "AWS", None),
            ],
            ..JumpCloud::default()
        };
        let c = detect(&jc, &[], None).unwrap();
        assert_eq!(
            c.all.into_iter().collect::<Vec<_>>(),
            vec![
                ("a".into(), DetectedBy::Name),
                ("b".into(), DetectedBy::Label),
                ("c".into(), DetectedBy::SpUrl)
            ]
        );
    }

    #[test]
    fn manifest_wins_over_heuristic_and_config_over_manifest() {
        let mut jc = JumpCloud {
            applications: vec![app("a", "slack", "Slack", None)],
            manifest_slack_app_ids: Some(vec!["m".into()]),
            ..JumpCloud::default()
        };
        assert_eq!(
            detect(&jc, &[], None).unwrap().scoped,
            BTreeSet::from(["m".to_owned()])
        );
        assert_eq!(
            detect(&jc, &["x".into()], None).unwrap().scoped,
            BTreeSet::from(["x".to_owned()])
        );
        jc.manifest_slack_app_ids = Some(vec![]);
        assert_eq!(
            detect(&jc, &[], None).unwrap().scoped,
            BTreeSet::from(["a".to_owned()])
        );
    }

    #[test]
    fn slack_app_must_be_known_and_narrows_scope() {
        let jc = JumpCloud {
            applications: vec![app("a", "slack", "A", None), app("b", "slack", "B", None)],
            ..JumpCloud::default()
        };
        let c = detect(&jc, &[], Some("b")).unwrap();
        assert_eq!(c.all.len(), 2);
        assert_eq!(c.scoped, BTreeSet::from(["b".to_owned()]));
        assert_eq!(
            detect(&jc, &[], Some("zz")).unwrap_err(),
            UnknownApp { id: "zz".into() }
        );
    }

    fn three() -> Vec<crate::model::JcUser> {
        ["u1", "u2", "u3"]
            .iter()
            .map(|id| crate::model::JcUser {
                id: (*id).into(),
                email: crate::model::Email::parse(&format!("{id}@x.io")).unwrap(),
                alternate_email: None,
                state: crate::model::JcState::Activated,
                suspended: false,
                password_expired: false,
                account_locked: false,
            })
            .collect()
    }

    #[test]
    fn entitlement_follows_nested_groups_and_survives_cycles() {
        let group = |id: &str, users: &[&str], subs: &[&str], apps: &[&str]| JcGroup {
            id: id.into(),
            name: None,
            member_user_ids: users.iter().map(|s| (*s).to_owned()).collect(),
            member_group_ids: subs.iter().map(|s| (*s).to_owned()).collect(),
            application_ids: apps.iter().map(|s| (*s).to_owned()).collect(),
        };
        let jc = JumpCloud {
            users: three(),
            groups: Some(vec![
                group("g1", &["u1"], &["g2"], &["slack"]),
                group("g2", &["u2"], &["g1"], &[]),
                group("g3", &["u3"], &[], &["aws"]),
            ]),
            ..JumpCloud::default()
        };
        let c = Connectors {
            all: BTreeMap::from([("slack".into(), DetectedBy::Configured)]),
            scoped: BTreeSet::from(["slack".into()]),
        };
        let position = |id: &str| ["u1", "u2", "u3"].iter().position(|u| *u == id);
        let flags = entitled_users(&jc, &c, position).unwrap();
        assert_eq!(flags, vec![true, true, false]);
        let none = Connectors {
            all: BTreeMap::new(),
            scoped: BTreeSet::from(["other".into()]),
        };
        assert!(entitled_users(&jc, &none, |_| None).is_none());
    }
}
