//! Unit tests of the Slack listing reader.
use super::*;
use serde_json::json;

fn check(body: &str) -> Result<Page, Error> {
    check_page("Users", 1, 1000, body.as_bytes().to_vec())
}

fn page(start: u64, ids: &[Option<&str>]) -> Page {
    let resources: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| id.map_or(json!({}), |id| json!({"id": id})))
        .collect();
    let body = serde_json::to_vec(&json!({"Resources": resources})).unwrap();
    check_page("Users", start, 1000, body).unwrap()
}

/// Pages of `ids` (two per page, starting at 1) and the `Seen` they went through.
fn read(pages: &[(Option<u64>, [Option<&str>; 2])]) -> (BTreeMap<u64, Page>, Seen) {
    let seen = Seen::with_capacity(0);
    let mut out = BTreeMap::new();
    for (start, (total, ids)) in (1..).step_by(2).zip(pages) {
        let mut p = page(start, ids);
        p.total = *total;
        seen.take(&mut p);
        assert!(p.ids.is_empty());
        assert_eq!(p.held, 2);
        out.insert(start, p);
    }
    (out, seen)
}

fn problem(pages: &[(Option<u64>, [Option<&str>; 2])], total: u64) -> Option<String> {
    let (pages, seen) = read(pages);
    moved(&pages, total, &seen, "Users", 2).unwrap()
}

#[test]
fn a_repeated_id_is_found_and_named_in_page_order() {
    let six = Some(6);
    let pages = [
        (six, [Some("U1"), Some("U9")]),
        (six, [Some("U5"), None]),
        (six, [Some("U9"), Some("U5")]),
    ];
    let (kept, seen) = read(&pages);
    assert!(seen.suspect());
    assert_eq!(
        moved(&kept, 6, &seen, "Users", 2).unwrap().as_deref(),
        Some("user U9 appeared on two pages")
    );
}

#[test]
fn the_first_problem_in_page_order_is_named() {
    let (six, seven) = (Some(6), Some(7));
    // A repeat on page 2 comes before totalResults moving on page 3...
    let repeat_first = [
        (six, [Some("U1"), Some("U2")]),
        (six, [Some("U2"), Some("U3")]),
        (seven, [Some("U4"), Some("U5")]),
    ];
    assert_eq!(
        problem(&repeat_first, 6).as_deref(),
        Some("user U2 appeared on two pages")
    );
    // ...and after it moving on page 2.
    let moved_first = [
        (six, [Some("U1"), Some("U2")]),
        (seven, [Some("U3"), Some("U4")]),
        (six, [Some("U1"), Some("U5")]),
    ];
    assert_eq!(
        problem(&moved_first, 6).as_deref(),
        Some("totalResults moved from 6 to 7")
    );
    // Pages that do not add up, with no other problem.
    let short = [(None, [Some("U1"), Some("U2")]), (None, [Some("U3"), None])];
    assert_eq!(
        problem(&short, 6).as_deref(),
        Some("the pages hold 4 resources but totalResults is 6")
    );
    assert_eq!(problem(&short, 4), None);
}

#[test]
fn equal_fingerprints_of_different_ids_are_no_repeat() {
    let (kept, _) = read(&[(None, [Some("U1"), None]), (None, [None, Some("U2")])]);
    // As if two distinct ids had hashed alike: the ids themselves decide.
    let collided = Seen(std::sync::Mutex::new((crate::model::fast_set(0), true)));
    assert_eq!(moved(&kept, 4, &collided, "Users", 2).unwrap(), None);
}

#[test]
fn a_page_gives_its_envelope_and_only_top_level_ids() {
    let page = check(
        r#"{"schemas":["x"],"totalResults":3,"itemsPerPage":3,"startIndex":1,"Resources":[
            {"urn:scim:schemas:extension:enterprise:1.0":{"manager":{"id":"M"}},"id":"U1",
             "emails":[{"value":"a@x.test","primary":true}],"groups":[{"value":"G","id":"G"}]},
            {"\u0069d":"U2","active":false},
            {"id":null,"userName":"nobody"}]}"#,
    )
    .unwrap();
    assert_eq!(page.total, Some(3));
    assert_eq!(
        page.ids,
        [Some("U1".to_owned()), Some("U2".to_owned()), None]
    );
}

#[test]
fn an_empty_or_null_envelope_is_read_as_absent() {
    let page = check(r#"{"totalResults":null,"Resources":[]}"#).unwrap();
    assert_eq!((page.total, page.ids.len()), (None, 0));
    let page = check(r#"{"totalResults":0}"#).unwrap();
    assert_eq!((page.total, page.ids.len()), (Some(0), 0));
}

#[test]
fn a_mangled_key_is_an_unknown_key() {
    let page = check("{\"Resources\":[{\"i\u{1}d\":\"U1\"},{\"id\":\"U2\"}]}").unwrap();
    assert_eq!(page.ids, [None, Some("U2".to_owned())]);
}

#[test]
fn a_body_that_is_not_json_is_named_by_how_it_starts() {
    let said = |body: &str| match check(body) {
        Err(Error::Body { source, .. }) => source.to_string(),
        other => panic!("accepted {body}: {:?}", other.map(|p| p.held)),
    };
    assert_eq!(
        said("\n <html><body>502 Bad Gateway</body></html>\n"),
        "not a JSON page: it starts with `<html><body>502 Bad Gateway</bod…`"
    );
    assert_eq!(
        said("Unauthorized\r\nmore"),
        "not a JSON page: it starts with `Unauthorized`"
    );
    assert_eq!(said(" \n"), "an empty body, not a JSON page");
    // Broken JSON keeps serde_json's account of where it broke.
    assert!(said(r#"{"Resources": [}"#).contains("line 1 column"));
}

#[test]
fn a_page_must_answer_for_the_start_it_was_asked_for() {
    let with = |asked: u64, body: &str| check_page("Users", asked, 100, body.into()).unwrap();
    let moved = with(101, r#"{"startIndex":1,"Resources":[]}"#);
    assert_eq!(
        wrong_start(&moved, true).as_deref(),
        Some("GET /Users?startIndex=101&count=100 was answered with startIndex 1")
    );
    assert!(wrong_start(&with(101, r#"{"startIndex":101}"#), true).is_none());
    // No startIndex places a page only when it is the whole listing (as the loader has it).
    let bare = with(1, r#"{"Resources":[]}"#);
    assert!(wrong_start(&bare, false).is_none());
    assert_eq!(
        wrong_start(&bare, true).as_deref(),
        Some("GET /Users?startIndex=1&count=100 was answered without a startIndex")
    );
}

#[test]
fn an_empty_short_or_misplaced_page_stops_the_requests_not_sent() {
    let attempt = || Attempt {
        seen: Seen::with_capacity(0),
        total: 9,
        stride: 2,
        stop: AtomicBool::new(false),
    };
    let stops = |start: u64, ids: &[Option<&str>], echo: Option<u64>| {
        let a = attempt();
        let mut p = page(start, ids);
        p.echo = echo;
        a.take(&mut p);
        a.stopped()
    };
    let two = [Some("U1"), Some("U2")];
    assert!(!stops(3, &two, Some(3)), "a full page");
    assert!(
        !stops(9, &[Some("U9")], Some(9)),
        "the last page, short by design"
    );
    assert!(stops(3, &[Some("U3")], Some(3)), "short before the end");
    assert!(stops(3, &[], Some(3)), "empty");
    assert!(stops(3, &two, Some(1)), "answered for another start");
    let a = attempt();
    a.stop();
    assert!(a.stopped());
}

#[test]
fn broken_or_ambiguous_pages_are_refused() {
    for body in [
        r#"{"totalResults":1,"Resources":[{"id":"U1"}]"#,
        r#"{"totalResults":1,"Resources":[{"id":"U1","x":[1,}]}"#,
        r#"{"totalResults":1,"totalResults":2,"Resources":[]}"#,
        r#"{"Resources":[{"id":"U1","id":"U2"}]}"#,
        r#"{"Resources":[{"id":7}]}"#,
        r#"{"Resources":{"id":"U1"}}"#,
        r#"{"totalResults":"many"}"#,
        "[]",
    ] {
        assert!(
            matches!(check(body), Err(Error::Body { .. })),
            "accepted {body}"
        );
    }
}
