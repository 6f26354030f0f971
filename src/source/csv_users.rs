//! CSV user exports (portal exports, reports, hand-made sheets): columns are found by header
//! aliases, compared without case, spaces or punctuation (`_id`, `User Object ID`,
//! `PasswordExpired`, `password_expired` …).

use std::collections::HashMap;
use std::path::Path;

use super::Error;
use super::jumpcloud::{RawUser, StatusFields};
use super::wire::parse_bool;
use crate::model::JcUser;

struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
    shown: &'static str,
}

const ID: Column = Column {
    name: "id",
    aliases: &["id", "userid", "userobjectid", "objectid"],
    shown: "_id, id, Id, User ID, User Object ID",
};
const EMAIL: Column = Column {
    name: "email",
    aliases: &["email", "emailaddress", "useremail", "mail", "primaryemail"],
    shown: "email, Email, Email Address, User Email",
};
const OPTIONAL: [Column; 5] = [
    Column {
        name: "alternate_email",
        aliases: &["alternateemail", "altemail", "secondaryemail"],
        shown: "",
    },
    Column {
        name: "state",
        aliases: &["state", "userstate", "status"],
        shown: "",
    },
    Column {
        name: "suspended",
        aliases: &["suspended"],
        shown: "",
    },
    Column {
        name: "password_expired",
        aliases: &["passwordexpired"],
        shown: "",
    },
    Column {
        name: "account_locked",
        aliases: &["accountlocked", "locked"],
        shown: "",
    },
];

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses a CSV users export.
/// Also says which status columns held a value in any row.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<JcUser>, StatusFields), Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader.headers().map_err(csv_err)?.clone();
    let mut positions: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        positions.entry(normalise(h)).or_default().push(i);
    }
    // The columns of a field: two (`suspended` twice, or `_id` and `id`) must agree in each row.
    let find = |c: &Column| -> Vec<usize> {
        let mut found: Vec<usize> = c
            .aliases
            .iter()
            .filter_map(|a| positions.get(*a))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found
    };
    let names = |cols: &[usize]| -> String {
        cols.iter()
            .map(|&i| format!("`{}` (column {})", &headers[i], i + 1))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let required = |c: &'static Column| {
        let cols = find(c);
        if cols.is_empty() {
            return Err(Error::CsvColumn {
                path: path.to_path_buf(),
                column: c.name,
                aliases: c.shown,
            });
        }
        Ok(cols)
    };
    let id_cols = required(&ID)?;
    let email_cols = required(&EMAIL)?;
    let opt: Vec<Vec<usize>> = OPTIONAL.iter().map(find).collect();

    let mut users = Vec::new();
    let mut status = StatusFields::default();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, csv::Position::line);
        let label = format!("line {line}");
        let bad = |problem: String| Error::Record {
            path: path.to_path_buf(),
            record: label.clone(),
            problem,
        };
        // The field's non-empty values, which must agree when it has several columns.
        let one = |cols: &[usize], parse: &dyn Fn(&str) -> Result<String, String>| {
            let mut found: Option<(usize, String)> = None;
            for &c in cols {
                let Some(raw) = record.get(c).filter(|s| !s.is_empty()) else {
                    continue;
                };
                let value = parse(raw).map_err(&bad)?;
                match &found {
                    None => found = Some((c, value)),
                    Some((_, first)) if *first == value => {}
                    Some((first, _)) => {
                        return Err(bad(format!(
                            "{} disagree, so which holds cannot be known",
                            names(&[*first, c])
                        )));
                    }
                }
            }
            Ok(found.map(|(_, v)| v))
        };
        let as_text = |raw: &str| Ok(raw.to_owned());
        let text = |cols: &[usize]| one(cols, &as_text).map(|v| v.map(std::borrow::Cow::Owned));
        let flag = |i: usize| -> Result<Option<bool>, Error> {
            let parse = |raw: &str| {
                parse_bool(raw)
                    .map(|b| if b == Some(true) { "true" } else { "false" }.to_owned())
                    .map_err(|()| format!("{} is `{raw}`, not a boolean", OPTIONAL[i].name))
            };
            Ok(one(&opt[i], &parse)?.map(|b| b == "true"))
        };
        let raw = RawUser {
            id: text(&id_cols)?,
            email: text(&email_cols)?,
            alternate_email: text(&opt[0])?,
            state: text(&opt[1])?,
            suspended: flag(2)?,
            password_expired: flag(3)?,
            account_locked: flag(4)?,
        };
        status.add(raw.status_fields());
        users.push(raw.into_user(path, || label.clone())?);
    }
    Ok((users, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JcState;

    fn csv(text: &str) -> Result<Vec<JcUser>, Error> {
        parse(Path::new("u.csv"), text.as_bytes()).map(|(users, _)| users)
    }

    #[test]
    fn header_aliases_and_values() {
        let u = csv(
            "User Object ID,Email ,State,PasswordExpired,alternateEmail,account_locked\n\
                     a1,A@X.io,SUSPENDED,false,,\n\
                     a2,b@x.io,ACTIVATED,TRUE,b.p@y.io,yes\n",
        )
        .unwrap();
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].state, JcState::Suspended);
        assert_eq!(u[0].email.as_str(), "a@x.io");
        assert!(u[1].password_expired && u[1].account_locked);
        assert_eq!(u[1].alternate_email.as_ref().unwrap().as_str(), "b.p@y.io");
    }

    #[test]
    fn missing_column_and_bad_values_name_the_line() {
        let e = csv("_id,name\na1,x\n").err().unwrap();
        assert!(e.to_string().starts_with("u.csv: no email column"), "{e}");
        let e = csv("_id,email,suspended\na1,a@x.io,perhaps\n")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "u.csv: line 2: suspended is `perhaps`, not a boolean"
        );
        let e = csv("_id,email\na1,\n").err().unwrap();
        assert_eq!(e.to_string(), "u.csv: line 2: user a1 has no email");
        let e = csv("_id,email\na1,a@x.io,extra\n").err().unwrap();
        assert_eq!(e.to_string(), "u.csv: invalid CSV");
    }

    #[test]
    fn two_columns_for_one_field_must_agree() {
        let e = csv("_id,email,state,suspended,suspended\na1,a@x.io,ACTIVATED,false,true\n")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "u.csv: line 2: `suspended` (column 4) and `suspended` (column 5) disagree, so which holds cannot be known"
        );
        let e = csv("_id,email,id\na1,a@x.io,a9\n").err().unwrap();
        assert!(
            e.to_string()
                .contains("`_id` (column 1) and `id` (column 3) disagree"),
            "{e}"
        );
        let e = csv("id,Email Address,User Email\na1,a@x.io,b@x.io\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("disagree"), "{e}");
        // Agreeing (or blank) columns are one field: `Yes` and `true` are both true.
        let u = csv("_id,id,email,suspended,Suspended\na1,a1,a@x.io,Yes,true\na2,,b@x.io,,false\n")
            .unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[0].suspended && !u[1].suspended);
        assert_eq!(u[1].id, "a2");
        // Columns the loader does not read may repeat.
        assert_eq!(
            csv("_id,email,name,name\na1,a@x.io,x,y\n").unwrap().len(),
            1
        );
    }
}
