//! A zero-copy JSON reader for the config: validate once, then walk the borrowed text.
//!
//! [`validate`] checks the whole document against RFC 8259 (UTF-8, string escapes including
//! UTF-16 surrogate pairs, number grammar, no trailing bytes) with a nesting bound and no
//! recursion, so no input can exhaust the stack. After that, [`Value`] and [`JStr`] borrow
//! slices of the input and decode lazily; they rely on the input having been validated.
//! [`validate_static`] also records where each container of a process-lifetime document (the
//! init's config) ends, so that walking it skips nested values by lookup instead of scanning.
//!
//! This replaces serde-json-core (and so serde and heapless), the crates the project allowed for
//! JSON: their errors carry no location (`mounts[3].options` cannot be named), fixed-capacity
//! containers turn long lists into errors or stack-heavy structs (about 512 KiB of stack for a
//! full OCI `Spec`), and serde-json-core rejects the UTF-16 surrogate pairs Go's encoder emits.
//! The parent's small replies are read with the same reader (one JSON parser, not two: 4 KB of
//! code less in a binary with a 128 KiB budget).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};

use crate::error::Reason;
use crate::names::Names;

/// Deepest nesting accepted. Real OCI configs reach 7.
pub const MAX_DEPTH: u32 = 64;

/// Why and where a document is not valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, for humans.
    pub reason: crate::error::Reason,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn err(&self, reason: crate::error::Reason) -> JsonError {
        JsonError {
            offset: self.i,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err(Reason::InvalidLiteral))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err(Reason::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err(Reason::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err(Reason::InvalidNumber));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| (c as char).to_digit(16));
            let d = d.ok_or_else(|| self.err(Reason::InvalidUEscape))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Result<(), JsonError> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err(self.err(Reason::UnterminatedString)),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(0..=0x1f) => return Err(self.err(Reason::ControlCharacterInString)),
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            let unit = self.hex4()?;
                            if (0xDC00..0xE000).contains(&unit) {
                                return Err(self.err(Reason::LoneLowSurrogateInUEscape));
                            }
                            if (0xD800..0xDC00).contains(&unit) {
                                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err(Reason::LoneHighSurrogateInUEscape));
                                }
                                self.i += 2;
                                if !(0xDC00..0xE000).contains(&self.hex4()?) {
                                    return Err(self.err(Reason::LoneHighSurrogateInUEscape));
                                }
                            }
                        }
                        _ => return Err(self.err(Reason::InvalidEscape)),
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn key(&mut self) -> Result<(), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.err(Reason::ExpectedAStringKey));
        }
        self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return Err(self.err(Reason::Expected));
        }
        self.i += 1;
        self.ws();
        Ok(())
    }
}

/// Check that `input` is one complete JSON value nested at most `max_depth` (≤ 64) deep.
pub fn validate(input: &[u8], max_depth: u32) -> Result<(), JsonError> {
    validate_into(input, max_depth, None)
}

/// [`validate`] a document that lives as long as the process (the init's config buffer), and
/// record where each of its containers ends: walking its values then skips a nested container
/// by a lookup instead of a scan. One such document is indexed at a time; `'static` memory is
/// never reused for another document, so an index can never describe the wrong one.
pub fn validate_static(input: &'static [u8], max_depth: u32) -> Result<(), JsonError> {
    let Some(mut writer) = IndexWriter::lock(input) else {
        return validate(input, max_depth);
    };
    let result = validate_into(input, max_depth, Some(&mut writer));
    writer.publish(result.is_ok());
    result
}

fn validate_into(
    input: &[u8],
    max_depth: u32,
    mut index: Option<&mut IndexWriter>,
) -> Result<(), JsonError> {
    if let Err(e) = core::str::from_utf8(input) {
        return Err(JsonError {
            offset: e.valid_up_to(),
            reason: Reason::InvalidUTF8,
        });
    }
    let max_depth = max_depth.min(64);
    let mut s = Scanner { b: input, i: 0 };
    // One bit per open container, innermost lowest: 1 = object, 0 = array.
    let mut kinds: u64 = 0;
    let mut depth: u32 = 0;
    // The index entry of each open container.
    let mut slots = [NOT_INDEXED; 64];
    s.ws();
    'value: loop {
        match s.peek() {
            Some(open @ (b'{' | b'[')) => {
                if depth == max_depth {
                    return Err(s.err(Reason::NestedTooDeep));
                }
                let slot = index.as_deref_mut().map_or(NOT_INDEXED, |x| x.open(s.i));
                if let Some(d) = slots.get_mut(depth as usize) {
                    *d = slot;
                }
                s.i += 1;
                depth += 1;
                kinds = kinds << 1 | u64::from(open == b'{');
                s.ws();
                let close = if open == b'{' { b'}' } else { b']' };
                if s.peek() == Some(close) {
                    s.i += 1;
                    depth -= 1;
                    kinds >>= 1;
                    if let Some(x) = index.as_deref_mut() {
                        x.close(slot, s.i);
                    }
                } else {
                    if open == b'{' {
                        s.key()?;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => s.string()?,
            Some(b't') => s.literal(b"true")?,
            Some(b'f') => s.literal(b"false")?,
            Some(b'n') => s.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => s.number()?,
            None => return Err(s.err(Reason::UnexpectedEndOfInput)),
            Some(_) => return Err(s.err(Reason::ExpectedAValue)),
        }
        // After a value: a separator, the end of its containers, or the end of the document.
        loop {
            s.ws();
            if depth == 0 {
                return if s.i == input.len() {
                    Ok(())
                } else {
                    Err(s.err(Reason::TrailingCharacters))
                };
            }
            let in_object = kinds & 1 == 1;
            match s.peek() {
                Some(b',') => {
                    s.i += 1;
                    s.ws();
                    if in_object {
                        s.key()?;
                    }
                    continue 'value;
                }
                Some(b'}') if in_object => {}
                Some(b']') if !in_object => {}
                None => return Err(s.err(Reason::UnexpectedEndOfInput)),
                Some(_) => return Err(s.err(Reason::ExpectedOrAClosingBracket)),
            }
            s.i += 1;
            depth -= 1;
            kinds >>= 1;
            if let (Some(x), Some(&slot)) = (index.as_deref_mut(), slots.get(depth as usize)) {
                x.close(slot, s.i);
            }
        }
    }
}

/// Containers the index records; later ones are found by scanning, as without it.
const INDEX_CAPACITY: usize = 4096;

const NOT_INDEXED: u32 = u32::MAX;

/// The structure of the document [`validate_static`] accepted last. Atomics, read as a seqlock:
/// `version` is odd while a writer fills it, and a lookup that sees it change meanwhile falls
/// back to scanning (host tests validate from several threads; the init has one).
struct Index {
    writer: AtomicBool,
    version: AtomicUsize,
    /// The document's address and length.
    base: AtomicUsize,
    len: AtomicUsize,
    /// Entries used.
    count: AtomicUsize,
    /// Offset of each container's opening bracket, in document order (so sorted).
    opens: [AtomicU32; INDEX_CAPACITY],
    /// Offset one past its closing bracket.
    ends: [AtomicU32; INDEX_CAPACITY],
}

static INDEX: Index = Index {
    writer: AtomicBool::new(false),
    version: AtomicUsize::new(0),
    base: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    count: AtomicUsize::new(0),
    opens: [const { AtomicU32::new(0) }; INDEX_CAPACITY],
    ends: [const { AtomicU32::new(0) }; INDEX_CAPACITY],
};

/// The right to fill [`INDEX`] (one writer at a time).
struct IndexWriter {
    count: usize,
}

impl IndexWriter {
    fn lock(input: &'static [u8]) -> Option<IndexWriter> {
        if INDEX.writer.swap(true, Ordering::Acquire) {
            return None;
        }
        INDEX.version.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        INDEX.base.store(input.as_ptr() as usize, Ordering::Relaxed);
        INDEX.len.store(input.len(), Ordering::Relaxed);
        Some(IndexWriter { count: 0 })
    }

    /// Record a container opening at `offset`; its slot.
    fn open(&mut self, offset: usize) -> u32 {
        match (INDEX.opens.get(self.count), u32::try_from(offset)) {
            (Some(o), Ok(offset)) => {
                o.store(offset, Ordering::Relaxed);
                self.count += 1;
                u32::try_from(self.count - 1).unwrap_or(NOT_INDEXED)
            }
            _ => NOT_INDEXED,
        }
    }

    /// Record where the container in `slot` ends.
    fn close(&mut self, slot: u32, end: usize) {
        if let (Some(e), Ok(end)) = (INDEX.ends.get(slot as usize), u32::try_from(end)) {
            e.store(end, Ordering::Relaxed);
        }
    }

    fn publish(self, valid: bool) {
        INDEX
            .count
            .store(if valid { self.count } else { 0 }, Ordering::Relaxed);
        INDEX.version.fetch_add(1, Ordering::Release);
        INDEX.writer.store(false, Ordering::Release);
    }
}

/// The end of the container whose opening bracket is `b[i]`, if the index has it.
fn indexed_end(b: &[u8], i: usize) -> Option<usize> {
    let version = INDEX.version.load(Ordering::Acquire);
    if version & 1 == 1 {
        return None;
    }
    let at = (b.as_ptr() as usize + i).checked_sub(INDEX.base.load(Ordering::Relaxed))?;
    if at >= INDEX.len.load(Ordering::Relaxed) {
        return None;
    }
    let target = u32::try_from(at).ok()?;
    let opens = INDEX.opens.get(..INDEX.count.load(Ordering::Relaxed))?;
    let k = opens
        .binary_search_by(|o| o.load(Ordering::Relaxed).cmp(&target))
        .ok()?;
    let end = INDEX.ends.get(k)?.load(Ordering::Relaxed) as usize;
    fence(Ordering::Acquire);
    if INDEX.version.load(Ordering::Relaxed) != version || end <= at {
        return None;
    }
    Some(i + (end - at))
}

/// End (exclusive) of the string whose opening quote is at `i`. Input must be valid.
fn string_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    i += 1;
    // Eight bytes at a time while none of them is a quote or a backslash (configs are mostly
    // long plain strings: paths, syscall names).
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        if has_zero_byte(v ^ (ONES * u64::from(b'"')))
            || has_zero_byte(v ^ (ONES * u64::from(b'\\')))
        {
            break;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// End (exclusive) of the value starting at `i`. Input must be valid.
fn value_end(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        None => return b.len(),
        Some(b'"') => return string_end(b, i),
        Some(b'{' | b'[') => {
            if let Some(end) = indexed_end(b, i) {
                return end;
            }
        }
        Some(_) => {
            // A scalar ends at the next structural byte or whitespace.
            while let Some(&c) = b.get(i) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            return i;
        }
    }
    // A container: only quotes and brackets matter (scalars, separators and whitespace hold
    // none), so skip eight bytes at a time to the next of them.
    let mut depth = 0usize;
    loop {
        i = next_quote_or_bracket(b, i);
        match b.get(i) {
            None => return b.len(),
            Some(b'"') => i = string_end(b, i),
            Some(b'{' | b'[') => {
                depth += 1;
                i += 1;
            }
            _ => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
        }
    }
}

/// The first index from `i` holding `"`, `[`, `]`, `{` or `}` (or `b.len()`).
fn next_quote_or_bracket(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // `[`/`{` and `]`/`}` differ only in bit 5: setting it folds four bytes into two.
        let folded = v | (ONES * 0x20);
        if has_zero_byte(v ^ (ONES * u64::from(b'"')))
            || has_zero_byte(folded ^ (ONES * u64::from(b'{')))
            || has_zero_byte(folded ^ (ONES * u64::from(b'}')))
        {
            break;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if matches!(c, b'"' | b'[' | b']' | b'{' | b'}') {
            return i;
        }
        i += 1;
    }
    b.len()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// The JSON type of a [`Value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

/// One JSON value of a validated document: exactly its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
}

impl Value<'static> {
    /// `null`.
    pub const NULL: Value<'static> = Value { raw: b"null" };
}

impl<'a> Value<'a> {
    /// The top-level value of a document that [`validate`] accepted.
    pub fn root(input: &'a [u8]) -> Self {
        let start = skip_ws(input, 0);
        let end = value_end(input, start);
        Value {
            raw: input.get(start..end).unwrap_or_default(),
        }
    }

    /// Its JSON type.
    pub fn kind(self) -> Kind {
        match self.raw.first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    /// The string, if it is one.
    pub fn as_str(self) -> Option<JStr<'a>> {
        (self.kind() == Kind::String).then(|| JStr {
            raw: self.raw.get(1..self.raw.len() - 1).unwrap_or_default(),
        })
    }

    /// The boolean, if it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self.raw {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// The number, if it is an integer (no fraction, no exponent) that fits in `i128`.
    pub fn as_integer(self) -> Option<i128> {
        if self.kind() != Kind::Number {
            return None;
        }
        let (negative, digits) = match self.raw.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, self.raw),
        };
        let mut v: i128 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
        }
        Some(if negative { -v } else { v })
    }

    /// The members of an object, in document order (empty for other kinds).
    pub fn members(self) -> Members<'a> {
        Members {
            b: self.raw,
            i: if self.kind() == Kind::Object {
                1
            } else {
                self.raw.len()
            },
        }
    }

    /// The elements of an array, in document order (empty for other kinds).
    pub fn elements(self) -> Elements<'a> {
        Elements {
            b: self.raw,
            i: if self.kind() == Kind::Array {
                1
            } else {
                self.raw.len()
            },
        }
    }

    /// The values of the members named in `keys`, found in one pass over the object, `null`
    /// as absent (see [`Value::get`] for duplicates): `found[i]` for the `i`th name.
    pub fn fields(self, keys: Names, found: &mut [Option<Value<'a>>]) {
        for (k, v) in self.members() {
            if let Some(slot) = keys.iter().position(|key| k.eq_str(key)) {
                found[slot] = (v.kind() != Kind::Null).then_some(v);
            }
        }
    }

    /// The value of member `key`. With duplicate keys the last one wins, as in Go's decoder
    /// (the one runc uses).
    pub fn get(self, key: &str) -> Option<Value<'a>> {
        self.members()
            .filter(|(k, _)| k.eq_str(key))
            .map(|(_, v)| v)
            .last()
    }
}

/// Iterator over an object's members.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (JStr<'a>, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let mut i = skip_ws(b, self.i);
        if b.get(i) != Some(&b'"') {
            self.i = b.len();
            return None;
        }
        let key_end = string_end(b, i);
        let key = JStr {
            raw: b.get(i + 1..key_end - 1)?,
        };
        i = skip_ws(b, key_end) + 1; // the ':'
        i = skip_ws(b, i);
        let end = value_end(b, i);
        let value = Value {
            raw: b.get(i..end)?,
        };
        i = skip_ws(b, end);
        self.i = if b.get(i) == Some(&b',') {
            i + 1
        } else {
            b.len()
        };
        Some((key, value))
    }
}

/// Iterator over an array's elements.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let i = skip_ws(b, self.i);
        if matches!(b.get(i), None | Some(b']')) || i >= b.len() {
            self.i = b.len();
            return None;
        }
        let end = value_end(b, i);
        let value = Value {
            raw: b.get(i..end)?,
        };
        let next = skip_ws(b, end);
        self.i = if b.get(next) == Some(&b',') {
            next + 1
        } else {
            b.len()
        };
        Some(value)
    }
}

/// A JSON string's contents, still escaped, borrowed from the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JStr<'a> {
    raw: &'a [u8],
}

impl JStr<'static> {
    /// The empty string.
    pub const EMPTY: JStr<'static> = JStr { raw: b"" };
}

impl<'a> JStr<'a> {
    /// The escaped text between the quotes.
    pub fn raw(self) -> &'a [u8] {
        self.raw
    }

    /// The decoded characters.
    pub fn chars(self) -> Chars<'a> {
        Chars { b: self.raw, i: 0 }
    }

    /// True when the decoded text equals `s`.
    pub fn eq_str(self, s: &str) -> bool {
        if !self.raw.contains(&b'\\') {
            return self.raw == s.as_bytes();
        }
        self.chars().eq(s.chars())
    }

    /// True when the decoded text is empty.
    pub fn is_empty(self) -> bool {
        self.raw.is_empty()
    }

    /// Decode into `out` as UTF-8; returns the length, or `None` if `out` is too small.
    pub fn decode_into(self, out: &mut [u8]) -> Option<usize> {
        if !self.raw.contains(&b'\\') {
            out.get_mut(..self.raw.len())?.copy_from_slice(self.raw);
            return Some(self.raw.len());
        }
        let mut n = 0;
        for c in self.chars() {
            let len = c.len_utf8();
            c.encode_utf8(out.get_mut(n..n + len)?);
            n += len;
        }
        Some(n)
    }
}

impl core::fmt::Display for JStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write as _;
        self.chars().try_for_each(|c| f.write_char(c))
    }
}

/// Decoding iterator over a [`JStr`].
#[derive(Debug, Clone)]
pub struct Chars<'a> {
    b: &'a [u8],
    i: usize,
}

impl Chars<'_> {
    fn hex4(&mut self) -> u32 {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .b
                .get(self.i)
                .and_then(|&c| (c as char).to_digit(16))
                .unwrap_or(0);
            v = v * 16 + d;
            self.i += 1;
        }
        v
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let rest = self.b.get(self.i..)?;
        let first = *rest.first()?;
        if first != b'\\' {
            // Validated UTF-8: decode one scalar from the leading bytes.
            let len = match first {
                0..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let s = core::str::from_utf8(rest.get(..len)?).ok()?;
            self.i += len;
            return s.chars().next();
        }
        self.i += 2;
        Some(match rest.get(1)? {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4();
                if (0xD800..0xDC00).contains(&unit) {
                    self.i += 2; // the "\u" of the low surrogate, present in valid input
                    let low = self.hex4();
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low.wrapping_sub(0xDC00)))?
                } else {
                    char::from_u32(unit)?
                }
            }
            &other => other as char,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) {
        assert_eq!(validate(s.as_bytes(), MAX_DEPTH), Ok(()), "{s}");
    }

    fn bad(s: &[u8], reason: &str) {
        let e = validate(s, MAX_DEPTH).expect_err("must be rejected");
        assert_eq!(e.reason.text(), reason, "{:?}", core::str::from_utf8(s));
    }

    #[test]
    fn accepts_json() {
        for s in [
            "{}",
            "[]",
            "0",
            "-0.5e+3",
            "\"\"",
            "true",
            " null ",
            "{\"a\":[1,{\"b\":\"c\"},[]]}",
            "[\"\\ud83d\\ude00\", \"\\u0026\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        ] {
            ok(s);
        }
    }

    #[test]
    fn rejects_malformed() {
        bad(b"", "unexpected end of input");
        bad(b"{", "expected a string key");
        bad(b"{\"a\":1,}", "expected a string key");
        bad(b"[1,]", "expected a value");
        bad(b"[1 2]", "expected ',' or a closing bracket");
        bad(b"{} x", "trailing characters");
        bad(b"01", "trailing characters");
        bad(b"1.", "invalid number");
        bad(b"\"\\x\"", "invalid escape");
        bad(b"\"\\ud83d\"", "lone high surrogate in \\u escape");
        bad(b"\"\\ude00\"", "lone low surrogate in \\u escape");
        bad(b"\"a\nb\"", "control character in string");
        bad(b"\"\xff\"", "invalid UTF-8");
        bad(b"tru", "invalid literal");
        bad(b"[1]]", "trailing characters");
        bad(b"{\"a\"}", "expected ':'");
        bad(b"{\"a\":1]", "expected ',' or a closing bracket");
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let deep = "[".repeat(1_000_000);
        bad(deep.as_bytes(), "nested too deep");
        let fine = format!("{}{}", "[".repeat(64), "]".repeat(64));
        ok(&fine);
        let over = format!("{}{}", "[".repeat(65), "]".repeat(65));
        bad(over.as_bytes(), "nested too deep");
    }

    #[test]
    fn indexed_walks_agree_with_scanning_ones() {
        use std::string::String;
        // Every value's extent (and so every walk) is the same through the index, including a
        // document with more containers than the index holds, from several threads at once.
        fn extents(v: Value<'_>, out: &mut std::vec::Vec<(usize, usize)>) {
            out.push((v.raw.as_ptr() as usize, v.raw.len()));
            for (_, m) in v.members() {
                extents(m, out);
            }
            for e in v.elements() {
                extents(e, out);
            }
        }
        let mut many = String::from("[");
        for i in 0..INDEX_CAPACITY + 100 {
            many.push_str(&std::format!("{{\"k\": [{i}, {{}}], \"s\": \"]}}\\\"\"}},"));
        }
        many.push_str("[]]");
        let docs: std::vec::Vec<&'static [u8]> = [
            String::from(r#" {"a": [1, [], {"b": "]}"}], "c": {"d": [[[]]]}, "e": "x"} "#),
            String::from("[]"),
            many,
        ]
        .into_iter()
        .map(|d| &*std::boxed::Box::leak(d.into_bytes().into_boxed_slice()))
        .collect();
        let threads: std::vec::Vec<_> = (0..4)
            .map(|t| {
                let docs = docs.clone();
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let doc = docs[(t + round) % docs.len()];
                        validate_static(doc, MAX_DEPTH).expect("valid");
                        let (mut indexed, mut scanned) = (std::vec![], std::vec![]);
                        extents(Value::root(doc), &mut indexed);
                        // The same walk with the index of some other document in place.
                        validate_static(docs[(t + round + 1) % docs.len()], MAX_DEPTH)
                            .expect("valid");
                        extents(Value::root(doc), &mut scanned);
                        assert_eq!(indexed, scanned);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no thread panicked");
        }
        // A document the index holds: its containers are found by lookup.
        validate_static(docs[0], MAX_DEPTH).expect("valid");
        assert_eq!(indexed_end(docs[0], 1), Some(docs[0].len() - 1));
        assert_eq!(indexed_end(docs[1], 0), None, "not the indexed document");
    }

    #[test]
    fn walks_and_decodes() {
        let doc = br#" {"a": [1, -2, "x\u0026y"], "b": {"c": true}, "a": "last", "e\u0301": "\ud83d\ude00 \u00e9" } "#;
        validate(doc, MAX_DEPTH).expect("valid");
        let root = Value::root(doc);
        assert_eq!(root.kind(), Kind::Object);
        assert_eq!(root.members().count(), 4);
        assert!(
            root.get("a")
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.eq_str("last"))
        );
        let first_a = root.members().next().expect("member").1;
        let els: Vec<_> = first_a.elements().collect();
        assert_eq!(els.len(), 3);
        assert_eq!(els[0].as_integer(), Some(1));
        assert_eq!(els[1].as_integer(), Some(-2));
        let mut buf = [0u8; 16];
        let n = els[2]
            .as_str()
            .expect("string")
            .decode_into(&mut buf)
            .expect("fits");
        assert_eq!(&buf[..n], b"x&y");
        assert_eq!(
            root.get("b")
                .and_then(|b| b.get("c"))
                .and_then(Value::as_bool),
            Some(true)
        );
        let v = root
            .get("e\u{301}")
            .and_then(Value::as_str)
            .expect("escaped key found");
        let n = v.decode_into(&mut buf).expect("fits");
        assert_eq!(core::str::from_utf8(&buf[..n]), Ok("\u{1F600} \u{e9}"));
        assert!(v.decode_into(&mut [0u8; 3]).is_none());
    }

    #[test]
    fn integers() {
        let doc = b"[18446744073709551615, -9223372036854775808, 1.5, 1e3]";
        let v: Vec<_> = Value::root(doc).elements().map(Value::as_integer).collect();
        assert_eq!(
            v,
            [
                Some(18446744073709551615),
                Some(-9223372036854775808),
                None,
                None
            ]
        );
    }
}
