//! The JUnit XML report, for CI test dashboards: a testsuite per finding code, a testcase per
//! finding, a `<failure>` for each one that counts at `--fail-on`, `<skipped>` for suppressed
//! ones. Written with quick-xml, never by hand.

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::Options;
use crate::analysis::{Finding, FindingCode};
use crate::report::Report;

fn xml_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn name(f: &Finding) -> String {
    let who = f
        .slack_user_id
        .clone()
        .or_else(|| f.jumpcloud_group_id.as_ref().map(|g| format!("group {g}")))
        .or_else(|| f.email.clone())
        .unwrap_or_else(|| "-".to_owned());
    let name = match &f.email {
        Some(e) if f.slack_user_id.is_some() => format!("{who} {e}"),
        _ => who,
    };
    super::visible(&name).into_owned()
}

/// Writes the JUnit XML.
pub fn write(report: &Report, opts: Options, out: &mut dyn Write) -> io::Result<()> {
    let fails = |f: &Finding| f.counts() && f.severity >= opts.fail_on;
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml_err)?;
    let findings = &report.analysis.findings;
    let total = findings.len().max(1);
    let failures = findings.iter().filter(|f| fails(f)).count();
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "scimdrift"));
    root.push_attribute(("tests", total.to_string().as_str()));
    root.push_attribute(("failures", failures.to_string().as_str()));
    w.write_event(Event::Start(root)).map_err(xml_err)?;
    if findings.is_empty() {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "scimdrift"));
        suite.push_attribute(("tests", "1"));
        suite.push_attribute(("failures", "0"));
        w.write_event(Event::Start(suite)).map_err(xml_err)?;
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("name", "no drift"));
        case.push_attribute(("classname", "scimdrift"));
        w.write_event(Event::Empty(case)).map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("testsuite")))
            .map_err(xml_err)?;
    }
    for code in FindingCode::ALL {
        let of_code: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
        if of_code.is_empty() {
            continue;
        }
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", code.as_str()));
        suite.push_attribute(("tests", of_code.len().to_string().as_str()));
        suite.push_attribute((
            "failures",
            of_code
                .iter()
                .filter(|f| fails(f))
                .count()
                .to_string()
                .as_str(),
        ));
        suite.push_attribute((
            "skipped",
            of_code
                .iter()
                .filter(|f| !f.counts())
                .count()
                .to_string()
                .as_str(),
        ));
        w.write_event(Event::Start(suite)).map_err(xml_err)?;
        for f in of_code {
            let text = super::visible(&f.message);
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("name", name(f).as_str()));
            case.push_attribute(("classname", format!("scimdrift.{}", code.as_str()).as_str()));
            w.write_event(Event::Start(case)).map_err(xml_err)?;
            if let Some(s) = &f.suppressed {
                let mut skipped = BytesStart::new("skipped");
                let message = format!(
                    "suppressed: {} (owner {}, until {}{})",
                    s.reason,
                    s.owner,
                    s.expires,
                    s.ticket
                        .as_deref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default()
                );
                skipped.push_attribute(("message", &*super::visible(&message)));
                w.write_event(Event::Empty(skipped)).map_err(xml_err)?;
            } else if fails(f) {
                let mut failure = BytesStart::new("failure");
                failure.push_attribute(("message", &*text));
                failure.push_attribute(("type", f.severity.as_str()));
                w.write_event(Event::Start(failure)).map_err(xml_err)?;
                w.write_event(Event::Text(BytesText::new(&text)))
                    .map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("failure")))
                    .map_err(xml_err)?;
            } else {
                w.write_event(Event::Start(BytesStart::new("system-out")))
                    .map_err(xml_err)?;
                w.write_event(Event::Text(BytesText::new(&format!(
                    "{}: {text}",
                    f.severity
                ))))
                .map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("system-out")))
                    .map_err(xml_err)?;
            }
            w.write_event(Event::End(BytesEnd::new("testcase")))
                .map_err(xml_err)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))
            .map_err(xml_err)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))
        .map_err(xml_err)?;
    w.get_mut().write_all(b"\n")
}
