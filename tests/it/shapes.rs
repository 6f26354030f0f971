//! Every input shape of DESIGN §2 gives the same answer for the same organisation.

use serde_json::Value;

use crate::common::{Run, arg, run, tree};
use crate::org::{
    SMALL_ORG_FINDINGS, jc_csv, jc_json, jc_pascal, jc_v1_pages, sl, slack_array, slack_pages,
    small_org,
};

fn assert_small_org(r: &Run) {
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    let got: Vec<(String, String, Option<String>, Option<String>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().map(str::to_owned);
            (
                s("code").unwrap(),
                s("slack_user_id").unwrap(),
                s("matched_by"),
                s("reason"),
            )
        })
        .collect();
    let want: Vec<_> = SMALL_ORG_FINDINGS
        .iter()
        .map(|(c, id, m, r)| {
            (
                (*c).to_owned(),
                (*id).to_owned(),
                m.map(str::to_owned),
                r.map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(got, want, "{r:?}");
    assert_eq!(report["summary"]["slack_bots"], 1);
    assert_eq!(report["summary"]["jumpcloud_users"], 4);
    assert_eq!(report["complete"], true);
}

fn files<'a>(dir: &str, list: &'a [(String, String)]) -> Vec<(String, &'a str)> {
    list.iter()
        .map(|(n, c)| (format!("{dir}/{n}"), c.as_str()))
        .collect()
}

fn audit(jc: &str, slack: &[&str]) -> Run {
    let mut args = vec!["audit", "--format", "json", "--jumpcloud", jc];
    for s in slack {
        args.push("--slack");
        args.push(s);
    }
    run(&args)
}

#[test]
fn jumpcloud_v1_page_array_pascal_csv_and_pages_dir() {
    let (jcs, slack) = small_org();
    let slack_pages = slack_pages(&slack, 100, true);
    let page = jc_v1_pages(&jcs, 100).remove(0).1;
    let array = Value::Array(jcs.iter().map(jc_json).collect()).to_string();
    let pascal = Value::Array(jcs.iter().map(jc_pascal).collect()).to_string();
    let csv = jc_csv(&jcs);
    let pages = jc_v1_pages(&jcs, 3);
    let mut all: Vec<(String, &str)> = files("slack", &slack_pages);
    all.extend(files("jcpages", &pages));
    all.extend([
        ("page.json".to_owned(), page.as_str()),
        ("array.json".to_owned(), array.as_str()),
        ("pascal.json".to_owned(), pascal.as_str()),
        ("users.txt".to_owned(), csv.as_str()),
    ]);
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let dir = tree(&refs);
    let slack_dir = dir.path().join("slack");
    for jc in [
        "page.json",
        "array.json",
        "pascal.json",
        "users.txt",
        "jcpages",
    ] {
        let r = audit(arg(&dir.path().join(jc)), &[arg(&slack_dir)]);
        assert_small_org(&r);
    }
}

#[test]
fn slack_v1_v2_pages_several_files_and_bare_array() {
    let (jcs, slack) = small_org();
    let jc_page = jc_v1_pages(&jcs, 100).remove(0).1;
    let v1 = slack_pages(&slack, 2, false);
    let v2 = slack_pages(&slack, 4, true);
    let array = slack_array(&slack);
    let mut all: Vec<(String, &str)> = files("v1", &v1);
    all.extend(files("v2", &v2));
    all.extend([
        ("jc.json".to_owned(), jc_page.as_str()),
        ("array.json".to_owned(), array.as_str()),
    ]);
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let dir = tree(&refs);
    let jc = dir.path().join("jc.json");
    let p = |rel: &str| dir.path().join(rel);

    let r = audit(arg(&jc), &[arg(&p("v1"))]);
    assert_small_org(&r);
    assert_eq!(r.json()["inputs"]["slack"]["scim_version"], "v1");
    assert_eq!(r.json()["inputs"]["slack"]["total_results"], 6);

    let r = audit(arg(&jc), &[arg(&p("v2"))]);
    assert_small_org(&r);
    assert_eq!(r.json()["inputs"]["slack"]["scim_version"], "v2");

    // Several --slack files, given in any order (the last, empty page included).
    let mut pages: Vec<String> = v1
        .iter()
        .rev()
        .map(|(n, _)| p(&format!("v1/{n}")).to_str().unwrap().to_owned())
        .collect();
    pages.rotate_left(1);
    let page_refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    assert_small_org(&audit(arg(&jc), &page_refs));

    let r = audit(arg(&jc), &[arg(&p("array.json"))]);
    assert_small_org(&r);
    assert!(
        r.json()["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("bare array")),
        "{r:?}"
    );
    assert_eq!(r.json()["inputs"]["slack"]["total_results"], Value::Null);
}

#[test]
fn pages_of_1000_and_a_1000_page_directory() {
    // 2,500 users in pages of 1000 (v2) and the same in 1,000 pages of 2–3 (v1).
    let emails: Vec<&'static str> = (0..2500)
        .map(|i| &*Box::leak(format!("user{i}@big.example").into_boxed_str()))
        .collect();
    let ids: Vec<&'static str> = (0..2500)
        .map(|i| &*Box::leak(format!("W{i:08}").into_boxed_str()))
        .collect();
    let slack: Vec<_> = (0..2500).map(|i| sl(ids[i], emails[i], true, "")).collect();
    let jcs: Vec<_> = (0..2500)
        .filter(|i| i % 500 != 7)
        .map(|i| crate::org::jc(ids[i], emails[i]))
        .collect();
    let big = slack_pages(&slack, 1000, true);
    assert_eq!(big.len(), 4);
    let many = slack_pages(&slack, 3, false);
    assert!(many.len() >= 834);
    let tiny: Vec<(String, String)> = slack_pages(&slack[..1000], 1, true);
    assert_eq!(tiny.len(), 1001);
    let jc_pages = jc_v1_pages(&jcs, 100);
    let mut all: Vec<(String, &str)> = files("big", &big);
    all.extend(files("many", &many));
    all.extend(files("tiny", &tiny));
    all.extend(files("jc/systemusers", &jc_pages));
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let dir = tree(&refs);
    let jc = dir.path().join("jc");
    for slack_dir in ["big", "many"] {
        let r = audit(arg(&jc), &[arg(&dir.path().join(slack_dir))]);
        assert_eq!(r.code, 1, "{r:?}");
        let report = r.json();
        assert_eq!(report["summary"]["slack_users"], 2500);
        assert_eq!(report["summary"]["by_code"]["unknown-active"], 5);
        assert_eq!(report["inputs"]["jumpcloud"]["users"], 2495);
    }
    let r = audit(arg(&jc), &[arg(&dir.path().join("tiny"))]);
    assert_eq!(r.json()["summary"]["slack_users"], 1000, "{r:?}");
}

#[test]
fn users_without_status_fields_are_named_not_taken_as_active() {
    // Exports trimmed with `fields` (or a CSV of id and email) carry no status: nobody would
    // ever look suspended, so the report says what it could not see.
    let slack = slack_array(&[sl("U1", "a@x.io", true, "u1")]);
    for (name, users) in [
        ("jc.json", r#"[{"_id":"u1","email":"a@x.io"}]"#),
        ("jc.csv", "id,email\nu1,a@x.io\n"),
    ] {
        let dir = tree(&[(name, users), ("slack.json", &slack)]);
        let r = run(&[
            "audit",
            "--format",
            "json",
            "--jumpcloud",
            arg(&dir.path().join(name)),
            "--slack",
            arg(&dir.path().join("slack.json")),
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        let notices = r.json()["notices"].to_string();
        assert!(
            notices.contains("suspended and staged users cannot be seen"),
            "{name}: {notices}"
        );
        assert!(
            notices.contains("password-expired users cannot be seen"),
            "{name}: {notices}"
        );
    }
}
