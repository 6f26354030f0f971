//! File plumbing for the loaders: reading with the path in the error, listing page files in
//! natural order, and the checksum that the report carries for each input.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The paths and checksum of one input (JumpCloud or Slack).
///
/// For a single file `sha256` is the file's own SHA-256 (what `sha256sum` prints). For several
/// files it is the SHA-256 of `sha256sum`-style lines (`<hex>  <path>\n`) sorted by path, where
/// the path is relative to the directory given on the command line: it changes when any byte of
/// any file does, and not when the same export is read from another place.
#[derive(Clone, Debug, Default)]
pub struct InputDigest {
    /// The paths as given on the command line.
    pub paths: Vec<String>,
    roots: Vec<PathBuf>,
    files: Vec<(String, [u8; 32])>,
}

impl InputDigest {
    /// An empty digest for the given command-line paths.
    pub fn new(paths: &[PathBuf]) -> Self {
        Self {
            paths: paths.iter().map(|p| p.display().to_string()).collect(),
            roots: paths.to_vec(),
            files: Vec::new(),
        }
    }

    /// An empty digest with the same roots (for work done in parallel, then absorbed).
    pub(super) fn scratch(&self) -> Self {
        Self {
            paths: Vec::new(),
            roots: self.roots.clone(),
            files: Vec::new(),
        }
    }

    /// Takes the files of a scratch digest.
    pub(super) fn absorb(&mut self, other: Self) {
        self.files.extend(other.files);
    }

    /// Records a file read, with its SHA-256.
    pub(super) fn add_hashed(&mut self, path: &Path, sum: [u8; 32]) {
        let relative = self
            .roots
            .iter()
            .find_map(|root| {
                path.strip_prefix(root)
                    .ok()
                    .filter(|r| !r.as_os_str().is_empty())
            })
            .or_else(|| path.file_name().map(Path::new))
            .unwrap_or(path);
        let name = relative.to_string_lossy().replace('\\', "/");
        self.files.push((name, sum));
    }

    /// The hex checksum described on the type.
    pub fn sha256(&self) -> String {
        if let [(_, one)] = self.files.as_slice() {
            return hex(one);
        }
        let mut files: Vec<&(String, [u8; 32])> = self.files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut hasher = Sha256::new();
        for (path, sum) in files {
            hasher.update(hex(sum).as_bytes());
            hasher.update(b"  ");
            hasher.update(path.as_bytes());
            hasher.update(b"\n");
        }
        hex(&hasher.finalize().into())
    }
}

/// SHA-256 of `bytes`.
pub(super) fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The hex SHA-256 of `bytes` (as `sha256sum` prints it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&hash(bytes))
}

pub(super) fn hex(bytes: &[u8; 32]) -> String {
    // A digit table rather than `write!` per byte: every file read gets one of these (31,000 at
    // a million users).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Compares strings so that runs of digits compare by value.
pub(super) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|c| **c == b'0').count();
    &digits[zeros..]
}

/// The first byte that is not JSON whitespace (or a UTF-8 BOM).
pub(super) fn first_significant_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether `bytes` start with a UTF-16 byte-order mark: Windows PowerShell 5 writes
/// `ConvertTo-Json > users.json` so. Such a file is named as what it is, not as bad JSON or CSV.
pub(super) fn is_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")
}

/// What an input error says about a UTF-16 file.
pub(super) const UTF16: &str =
    "a UTF-16 text file (save it as UTF-8, e.g. `Out-File -Encoding utf8`)";

/// What a file that must hold a JSON page holds instead, for an error: an HTML error page, a
/// proxy's `Unauthorized`, `null`.
pub(crate) fn not_json(bytes: &[u8]) -> String {
    const SHOWN: usize = 32;
    let head = strip_bom(bytes).trim_ascii_start();
    let head = String::from_utf8_lossy(&head[..head.len().min(4 * SHOWN)]);
    let line = head.lines().next().unwrap_or_default();
    let mut shown: String = line
        .chars()
        .take(SHOWN)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() > SHOWN {
        shown.push('…');
    }
    format!("not a JSON page: it starts with `{}`", shown.trim_end())
}

/// The byte `serde_json` had just read when it stopped at 1-based `line` and `column` (the bytes
/// read on that line).
pub(super) fn offset_of(bytes: &[u8], line: usize, column: usize) -> Option<usize> {
    let start = match line {
        0 => return None,
        1 => 0,
        _ => {
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .nth(line - 2)?
                .0
                + 1
        }
    };
    Some((start + column).saturating_sub(1))
}

/// The record of a document that byte `at` falls in, named as the loaders name records:
/// `Resources[5] (id W5)` (an element of an array under a top-level key), or `[5] (id a5)` (of a
/// top-level array); the id is the record's `id`, `_id` or `Id` when it has one. `None` outside
/// any record. For error messages only: it scans the document again.
pub(super) fn record_at(bytes: &[u8], at: usize) -> Option<String> {
    let mut scan = Scan { bytes, i: 0 };
    scan.ws();
    match scan.peek()? {
        b'[' => scan.element_at("", at),
        b'{' => {
            scan.i += 1;
            loop {
                scan.ws();
                if scan.peek()? != b'"' {
                    return None;
                }
                let key_start = scan.i + 1;
                scan.string()?;
                let key = String::from_utf8_lossy(&bytes[key_start..scan.i - 1]);
                scan.ws();
                if scan.peek()? != b':' {
                    return None;
                }
                scan.i += 1;
                scan.ws();
                if scan.i > at {
                    return None;
                }
                if scan.peek()? == b'[' {
                    if let Some(found) = scan.element_at(&key, at) {
                        return Some(found);
                    }
                } else {
                    scan.value()?;
                }
                scan.ws();
                if scan.peek()? != b',' {
                    return None;
                }
                scan.i += 1;
            }
        }
        _ => None,
    }
}

/// A forward scan over JSON text that only finds where values start and end.
struct Scan<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Past a string, from its opening quote.
    fn string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    /// Past one value.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let mut depth = 0_usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// The element of the array starting here that holds byte `at`, named `key[i] (id …)`; the
    /// scan is past the array when it holds none.
    fn element_at(&mut self, key: &str, at: usize) -> Option<String> {
        self.i += 1;
        let mut index = 0_usize;
        loop {
            self.ws();
            if self.peek()? == b']' {
                self.i += 1;
                return None;
            }
            let start = self.i;
            let whole = self.value().is_some();
            if start <= at && (!whole || at < self.i) {
                let id = whole
                    .then(|| record_id(&self.bytes[start..self.i]))
                    .flatten();
                return Some(match id {
                    Some(id) => format!("{key}[{index}] (id {id})"),
                    None => format!("{key}[{index}]"),
                });
            }
            if !whole {
                return None;
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return None;
                }
                _ => return None,
            }
            index += 1;
        }
    }
}

/// A record's `id`, `_id` or `Id` (the first of each, in that order of preference), when it is
/// a non-blank string or a number.
fn record_id(record: &[u8]) -> Option<String> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct Ids;
    impl<'de> Visitor<'de> for Ids {
        type Value = [Option<String>; 3];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a record")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut ids: [Option<String>; 3] = Default::default();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let Some(slot) = ["id", "_id", "Id"].iter().position(|k| *k == key) else {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                let id = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) if !s.trim().is_empty() => {
                        Some(s.trim().to_owned())
                    }
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                if ids[slot].is_none() {
                    ids[slot] = id;
                }
            }
            Ok(ids)
        }
    }
    let ids = serde_json::Deserializer::from_slice(record)
        .deserialize_map(Ids)
        .ok()?;
    ids.into_iter().flatten().next()
}

/// `bytes` without a leading UTF-8 BOM (`serde_json` rejects it).
pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The first five of `items`, comma-separated, with `, …` when there are more: how a problem
/// names the ids it is about.
pub(super) fn first_few<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut items = items.into_iter();
    let shown: Vec<&str> = items.by_ref().take(5).collect();
    let more = if items.next().is_some() { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// Positions in `ids` whose id occurred at an earlier position. Works on 64-bit hashes, sorted
/// (one sequential pass and a sort of a million `u64`s, where probing a million-entry set costs a
/// cache miss per id); strings are compared only for ids whose hash repeats (a real repeat, or a
/// collision).
pub(super) fn repeats<'a>(ids: impl Iterator<Item = &'a str> + Clone) -> Vec<usize> {
    use std::hash::BuildHasher;
    let state = foldhash::fast::FixedState::with_seed(0x1d5);
    let mut hashes: Vec<u64> = ids.clone().map(|id| state.hash_one(id)).collect();
    hashes.sort_unstable();
    let mut twice: Vec<u64> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    if twice.is_empty() {
        return Vec::new();
    }
    drop(hashes);
    twice.dedup();
    let suspect: crate::model::FastSet<u64> = twice.into_iter().collect();
    let mut seen: crate::model::FastSet<&str> = crate::model::fast_set(suspect.len());
    ids.enumerate()
        .filter(|(_, id)| suspect.contains(&state.hash_one(id)) && !seen.insert(id))
        .map(|(i, _)| i)
        .collect()
}

/// Applies `f` to every item on all cores, keeping the input order (pages are parsed in
/// parallel; each page is independent).
pub(super) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    parallel_map_on(cores, items, f)
}

/// [`parallel_map`] on at most `threads` threads (more than the cores when the work waits on a
/// device, not the CPU).
pub(super) fn parallel_map_on<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (i, r) in done.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_the_later_positions() {
        assert!(repeats(["a", "b", "c"].into_iter()).is_empty());
        assert_eq!(
            repeats(["a", "b", "a", "c", "b", "a"].into_iter()),
            [2, 4, 5]
        );
        assert!(repeats(std::iter::empty()).is_empty());
        // Enough ids that a repeat far apart goes through the sort, not a neighbour.
        let many: Vec<String> = (0..10_000).map(|i| format!("U{i:08}")).collect();
        let with_repeat = many.iter().map(String::as_str).chain(["U00000007"]);
        assert_eq!(repeats(with_repeat), [10_000]);
    }

    #[test]
    fn first_few_names_five_then_an_ellipsis() {
        assert_eq!(first_few(["a", "b"]), "a, b");
        assert_eq!(first_few(["1", "2", "3", "4", "5"]), "1, 2, 3, 4, 5");
        assert_eq!(
            first_few(["1", "2", "3", "4", "5", "6"]),
            "1, 2, 3, 4, 5, …"
        );
        assert_eq!(first_few([]), "");
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<usize> = (0..1000).collect();
        assert_eq!(
            parallel_map(&items, |i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(parallel_map(&[] as &[usize], |i| *i).is_empty());
    }

    #[test]
    fn natural_order_of_page_files() {
        let mut names = vec![
            "skip-100.json",
            "skip-20.json",
            "skip-0.json",
            "skip-000300.json",
            "a.json",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec![
                "a.json",
                "skip-0.json",
                "skip-20.json",
                "skip-100.json",
                "skip-000300.json"
            ]
        );
    }

    #[test]
    fn single_file_digest_is_the_file_hash() {
        let mut d = InputDigest::default();
        d.add_hashed(Path::new("x"), hash(b"abc"));
        assert_eq!(
            d.sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        d.add_hashed(Path::new("y"), hash(b"abc"));
        assert_ne!(
            d.sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sniffing_skips_bom_and_whitespace() {
        assert_eq!(first_significant_byte(b"\xEF\xBB\xBF \n{"), Some(b'{'));
        assert_eq!(first_significant_byte(b"  "), None);
    }

    #[test]
    fn what_a_json_page_holds_instead() {
        assert_eq!(
            not_json(b"\n <html><body>502 Bad Gateway</body></html>\n"),
            "not a JSON page: it starts with `<html><body>502 Bad Gateway</bod…`"
        );
        assert_eq!(
            not_json(b"Unauthorized\r\nmore"),
            "not a JSON page: it starts with `Unauthorized`"
        );
        assert_eq!(not_json(b"null"), "not a JSON page: it starts with `null`");
    }

    /// `record_at` at the byte where `serde_json` stops on `needle` (its first byte).
    fn record_of(json: &str, needle: &str) -> Option<String> {
        let at = json.find(needle).expect("needle");
        record_at(json.as_bytes(), at)
    }

    #[test]
    fn records_are_found_by_offset() {
        let page = r#"{"totalResults":3, "Resources" : [ {"id":"W1","x":[1,{"a":"]"}]},
            {"active":"maybe","id":"W2"} , {"_id":7,"bad":1},{"id":"","Id":"a4","q":2}],"tail":1}"#;
        assert_eq!(
            record_of(page, "\"maybe\"").as_deref(),
            Some("Resources[1] (id W2)")
        );
        assert_eq!(
            record_of(page, "\"]\"").as_deref(),
            Some("Resources[0] (id W1)")
        );
        assert_eq!(
            record_of(page, "\"bad\"").as_deref(),
            Some("Resources[2] (id 7)")
        );
        assert_eq!(
            record_of(page, "\"q\"").as_deref(),
            Some("Resources[3] (id a4)")
        );
        assert_eq!(record_of(page, "\"tail\""), None);
        assert_eq!(record_of(page, "3,"), None);
        // A bare array; the first of an id given twice; a record cut short.
        let array = r#"[{"_id":"a1"},{"_id":"a2","_id":"a3","s":[1]}, {"_id":"a4","s":"#;
        assert_eq!(record_of(array, "[1]").as_deref(), Some("[1] (id a2)"));
        assert_eq!(record_of(array, "a4").as_deref(), Some("[2]"));
        assert_eq!(record_at(b"42", 0), None);
    }

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = b"ab\ncde\nf";
        assert_eq!(offset_of(text, 1, 2), Some(1));
        assert_eq!(offset_of(text, 2, 1), Some(3));
        assert_eq!(offset_of(text, 3, 1), Some(7));
        assert_eq!(offset_of(text, 4, 1), None);
        assert_eq!(offset_of(text, 0, 0), None);
    }
}
