//! Positions in a migration file: line/column arithmetic, statement boundaries from the scanner's
//! tokens, and where a parse error happened (libpg_query keeps the cursor position private, so it
//! is found again by re-parsing prefixes of the file).

use pg_query::protobuf::{ScanToken, Token};

/// The byte order mark some editors put at the start of a file.
pub(crate) const BOM: char = '\u{feff}';

/// Byte offset → 1-based line and column (columns count characters, not bytes; a leading byte
/// order mark is not a column).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { text, line_starts }
    }

    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset);
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let mut column = self.text[line_start..offset].chars().count() + 1;
        if line == 1 && offset > 0 && self.text.starts_with(BOM) {
            column -= 1;
        }
        (line, column)
    }

    pub(crate) fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One token of the file, as byte offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) comment: bool,
    pub(crate) semicolon: bool,
}

/// Every token of a file that scans, comments included, in order.
pub(crate) struct Tokens {
    pub(crate) all: Vec<Tok>,
}

/// Where a statement's own text lies.
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Tokens {
    pub(crate) fn scan(text: &str) -> Result<Tokens, String> {
        let scanned = pg_query::scan(text).map_err(|error| format!("could not scan the SQL: {error}"))?;
        Ok(Tokens { all: scanned.tokens.iter().map(|token| tok(text, token)).collect() })
    }

    /// The statement's text without surrounding whitespace, comments and the trailing `;`, given
    /// the parser's `stmt_location`/`stmt_len` (0 = to the end of the input).
    pub(crate) fn statement_span(&self, text: &str, location: i32, len: i32) -> Option<Span> {
        let from = usize::try_from(location).ok()?.min(text.len());
        let to = match usize::try_from(len).ok()? {
            0 => text.len(),
            len => (from + len).min(text.len()),
        };
        let first = self.all.partition_point(|t| t.start < from);
        let mut inside = self.all[first..].iter().take_while(|t| t.end <= to).filter(|t| !t.comment);
        let start = inside.next()?.start;
        let end = self.all[first..]
            .iter()
            .take_while(|t| t.end <= to)
            .filter(|t| !t.comment && !t.semicolon)
            .last()
            .map_or(start, |t| t.end);
        Some(Span { start, end: end.max(start) })
    }
}

fn tok(text: &str, token: &ScanToken) -> Tok {
    let clamp = |at: i32| floor_char_boundary(text, usize::try_from(at).unwrap_or(0));
    let kind = Token::try_from(token.token).ok();
    let start = clamp(token.start);
    Tok {
        start,
        end: clamp(token.end).max(start),
        comment: matches!(kind, Some(Token::SqlComment | Token::CComment)),
        semicolon: kind == Some(Token::Ascii59),
    }
}

/// A parse error, placed as close to the offending token as the parser lets us.
pub(crate) struct Problem {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// How long the `at or near "…"` excerpt in a message may get (an unterminated string quotes
/// the rest of the file).
const EXCERPT_CHARS: usize = 40;

/// Turns pg_query's error for `text` into a message and the byte offset it is about.
pub(crate) fn explain_parse_error(text: &str, error: &pg_query::Error) -> Problem {
    let message = match error {
        pg_query::Error::Parse(message) | pg_query::Error::Scan(message) | pg_query::Error::Split(message) => {
            message.clone()
        }
        other => other.to_string(),
    };
    if let Some(problem) = psql_meta_command(text) {
        return problem;
    }
    let offset = error_offset(text, &message);
    // A backslash command after a query on the same line (`SELECT … \gset`).
    if text[offset..].starts_with('\\') {
        return meta_command_problem(text, offset);
    }
    Problem { offset, message: shorten_excerpt(&message) }
}

fn meta_command_problem(text: &str, offset: usize) -> Problem {
    let command: String = text[offset..].chars().take_while(|c| !c.is_whitespace()).collect();
    Problem { offset, message: format!("psql meta-command `{command}` is not SQL; lockscope runs SQL only") }
}

/// A psql backslash command (`\set`, `\i file`, `\connect db`) at the start of a line that is
/// not inside a string, comment or dollar quote.
fn psql_meta_command(text: &str) -> Option<Problem> {
    // Each candidate costs a scan of the text before it; a few are enough to find a real one.
    const MAX_CANDIDATES: usize = 64;
    let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1));
    let candidates = line_starts
        .filter_map(|line_start| {
            let line = &text[line_start..];
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            line[indent..].starts_with('\\').then_some((line_start, indent))
        })
        .take(MAX_CANDIDATES);
    for (line_start, indent) in candidates {
        // Everything before the line scans cleanly only if the line starts outside any literal.
        if pg_query::scan(&text[..line_start]).is_err() {
            continue;
        }
        return Some(meta_command_problem(text, line_start + indent));
    }
    None
}

/// The text X of a message ending in `at or near "X"`.
fn near_text(message: &str) -> Option<&str> {
    const MARK: &str = " at or near \"";
    let at = message.rfind(MARK)?;
    message[at + MARK.len()..].strip_suffix('"')
}

fn shorten_excerpt(message: &str) -> String {
    match near_text(message) {
        Some(near) if near.chars().count() > EXCERPT_CHARS => {
            let head = &message[..message.len() - near.len() - 1];
            let short: String = near.chars().take(EXCERPT_CHARS).collect();
            format!("{head}{short}…\"")
        }
        _ => message.to_string(),
    }
}

fn error_offset(text: &str, message: &str) -> usize {
    match Tokens::scan(text) {
        Ok(tokens) => {
            let code: Vec<Tok> = tokens.all.into_iter().filter(|t| !t.comment).collect();
            if message.ends_with("at end of input") {
                return code.last().map_or(0, |t| t.end);
            }
            syntax_error_offset(text, &code, message).unwrap_or_else(|| failing_piece_offset(text, &code))
        }
        Err(_) => lexer_error_offset(text, message),
    }
}

/// The parser stops at the first token it cannot use, so a prefix of the file reproduces the
/// error exactly when it includes that token: binary-search the shortest such prefix.
fn syntax_error_offset(text: &str, code: &[Tok], message: &str) -> Option<usize> {
    let reproduces = |index: usize| match pg_query::parse(&text[..code[index].end], 0) {
        Err(pg_query::Error::Parse(prefix_message)) => prefix_message == message,
        _ => false,
    };
    let (mut low, mut high) = (0, code.len());
    while low < high {
        let middle = low + (high - low) / 2;
        if reproduces(middle) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    if low == code.len() {
        return None;
    }
    // Cross-check against the quoted token; the scanner's one-token lookahead can shift it.
    if let Some(near) = near_text(message) {
        let text_of = |t: &Tok| &text[t.start..t.end];
        if text_of(&code[low]) != near {
            let before = code[..low].iter().rev().take(3).find(|t| text_of(t) == near);
            let after = code[low..].iter().take(3).find(|t| text_of(t) == near);
            if let Some(t) = before.or(after) {
                return Some(t.start);
            }
        }
    }
    Some(code[low].start)
}

/// Fallback: the first statement (as the scanner splits them) that does not parse on its own.
fn failing_piece_offset(text: &str, code: &[Tok]) -> usize {
    let Ok(pieces) = pg_query::split_with_scanner(text) else {
        return 0;
    };
    for piece in pieces {
        if pg_query::parse(piece, 0).is_ok() {
            continue;
        }
        let piece_start = piece.as_ptr() as usize - text.as_ptr() as usize;
        let first = code.iter().find(|t| t.start >= piece_start);
        return first.map_or(piece_start, |t| t.start);
    }
    0
}

/// The scanner itself failed (unterminated literal or comment, junk after a number, …). The
/// message quotes the bad token; find the occurrence where scanning starts failing.
fn lexer_error_offset(text: &str, message: &str) -> usize {
    const MAX_CANDIDATES: usize = 256;
    let Some(near) = near_text(message).filter(|near| !near.is_empty()) else {
        return 0;
    };
    let same_error = |end: usize| match pg_query::scan(&text[..end]) {
        Err(pg_query::Error::Scan(prefix_message)) => prefix_message == message,
        _ => false,
    };
    let candidates: Vec<usize> = text.match_indices(near).map(|(at, _)| at).take(MAX_CANDIDATES).collect();
    candidates
        .iter()
        .copied()
        .find(|&at| pg_query::scan(&text[..at]).is_ok() && same_error(at + near.len()))
        .or_else(|| candidates.first().copied())
        .unwrap_or(0)
}
