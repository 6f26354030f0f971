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
    // The one column of a field; two (`suspended` twice, or `_id` and `id`) is an error: which
    // one holds cannot be known.
    let find = |c: &Column| -> Result<Option<usize>, Error> {
        let mut found: Vec<usize> = c
            .aliases
            .iter()
            .filter_map(|a| positions.get(*a))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            several => Err(Error::CsvDuplicateColumn {
                path: path.to_path_buf(),
                field: c.name,
                columns: several
                    .iter()
                    .map(|&i| format!("`{}` (column {})", &headers[i], i + 1))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    };
    let required = |c: &'static Column| {
        find(c)?.ok_or(Error::CsvColumn {
            path: path.to_path_buf(),
            column: c.name,
            aliases: c.shown,
        })
    };
    let id_col = required(&ID)?;
    let email_col = required(&EMAIL)?;
    let opt: Vec<Option<usize>> = OPTIONAL.iter().map(find).collect::<Result<_, _>>()?;

    let mut users = Vec::new();
    let mut status = StatusFields::default();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(0, csv::Position::line);
        let label = format!("line {line}");
        let text = |col: Option<usize>| {
            col.and_then(|c| record.get(c))
                .filter(|s| !s.is_empty())
                .map(|s| std::borrow::Cow::Owned(s.to_owned()))
        };
        let flag = |i: usize| -> Result<Option<bool>, Error> {
            let Some(raw) = text(opt[i]) else {
                return Ok(None);
            };
            parse_bool(&raw).map_err(|()| Error::Record {
                path: path.to_path_buf(),
                record: label.clone(),
                problem: format!("{} is `{raw}`, not a boolean", OPTIONAL[i].name),
            })
        };
        let raw = RawUser {
            id: text(Some(id_col)),
            email: text(Some(email_col)),
            alternate_email: text(opt[0]),
            state: text(opt[1]),
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
    fn two_columns_for_one_field_are_an_error() {
        let e = csv("_id,email,state,suspended,suspended\na1,a@x.io,ACTIVATED,false,true\n")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "u.csv: the CSV header has more than one suspended column (`suspended` (column 4), `suspended` (column 5)), so which one holds cannot be known"
        );
        let e = csv("_id,email,id\na1,a@x.io,a9\n").err().unwrap();
        assert!(
            e.to_string()
                .contains("more than one id column (`_id` (column 1), `id` (column 3))"),
            "{e}"
        );
        let e = csv("id,Email Address,User Email\na1,a@x.io,b@x.io\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("more than one email column"), "{e}");
        // Columns the loader does not read may repeat.
        assert_eq!(
            csv("_id,email,name,name\na1,a@x.io,x,y\n").unwrap().len(),
            1
        );
    }
}
