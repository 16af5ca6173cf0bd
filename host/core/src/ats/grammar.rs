//! The `ax` / `as` keyword grammar of the command line and the HTTP API:
//!
//! ```text
//! ax: [SUBJECT…] [is|are PREDICATE…] [of|from CONTEXT…] [by|via ACTOR…]
//!     [since TIME | until TIME | since TIME until TIME | between TIME and TIME]
//! as: SUBJECT… [is|are PREDICATE…] [of|from CONTEXT…] [by|via ACTOR…]
//! ```
//!
//! Words are the shell's words, so a value with spaces is quoted once (`"New York"`); a time
//! may be one word or several (`since 7 days ago`, `since "7 days ago"`). Keywords are
//! case-insensitive. A value that is a keyword, or a near miss of a time keyword (`sinc`,
//! `untill`: more likely a typo than a value), is refused; pass such values with `--subject`
//! and friends. Errors point at the offending word.

use std::fmt;

use crate::ats::when::{self, Edge};

/// What a command line said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    /// Words before the first keyword.
    pub subjects: Vec<String>,
    /// After `is` / `are`.
    pub predicates: Vec<String>,
    /// After `of` / `from`.
    pub contexts: Vec<String>,
    /// After `by` / `via`.
    pub actors: Vec<String>,
    /// From `since` or `between`, Unix milliseconds.
    pub since: Option<i64>,
    /// From `until` or `between`, Unix milliseconds.
    pub until: Option<i64>,
}

/// A word the grammar cannot take, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at word {} '{}'", .index + 1, .words.get(*.index).map_or("", String::as_str))]
pub struct ParseError {
    /// The words parsed.
    pub words: Vec<String>,
    /// Index of the offending word.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// The words on one line and a caret line under the offending word.
    pub fn pointer(&self) -> String {
        let mut line = String::new();
        let mut carets = String::new();
        for (i, word) in self.words.iter().enumerate() {
            if i > 0 {
                line.push(' ');
                carets.push(' ');
            }
            let shown = if word.contains(' ') || word.is_empty() {
                format!("\"{word}\"")
            } else {
                word.clone()
            };
            let mark = if i == self.index { '^' } else { ' ' };
            carets.extend(std::iter::repeat_n(mark, shown.chars().count()));
            line.push_str(&shown);
        }
        format!("  {line}\n  {}", carets.trim_end())
    }
}

/// Parse the words of `qntx ax`. Relative times count back from `now_ms`.
///
/// # Errors
///
/// [`ParseError`] at the first word that does not fit.
pub fn parse_ax(words: &[String], now_ms: i64) -> Result<Statement, ParseError> {
    Parser::new(words).parse(now_ms, true)
}

/// Parse the words of `qntx as`. Times are refused: a claim is dated with a flag.
///
/// # Errors
///
/// [`ParseError`] at the first word that does not fit.
pub fn parse_as(words: &[String]) -> Result<Statement, ParseError> {
    Parser::new(words).parse(0, false)
}

/// Split one line into words as a shell would for these commands: at spaces, with `"..."` or
/// `'...'` keeping spaces inside a word. For front ends that receive a query as one string
/// (the HTTP API's `ax` parameter).
///
/// # Errors
///
/// A [`ParseError`] at the word whose quote is never closed.
pub fn split(line: &str) -> Result<Vec<String>, ParseError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    if let Some(open) = quote {
        let index = words.len() - 1;
        return Err(ParseError {
            words,
            index,
            message: format!("the quote {open} is not closed"),
        });
    }
    Ok(words)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Is,
    Of,
    By,
    Since,
    Until,
    Between,
}

impl Keyword {
    fn of(word: &str) -> Option<Self> {
        Some(match word.to_lowercase().as_str() {
            "is" | "are" => Self::Is,
            "of" | "from" => Self::Of,
            "by" | "via" => Self::By,
            "since" => Self::Since,
            "until" => Self::Until,
            "between" => Self::Between,
            _ => return None,
        })
    }

    fn values(self) -> &'static str {
        match self {
            Self::Is => "predicate",
            Self::Of => "context",
            Self::By => "actor",
            Self::Since | Self::Until | Self::Between => "time",
        }
    }
}

const TIME_KEYWORDS: [&str; 3] = ["since", "until", "between"];

struct Parser<'w> {
    words: &'w [String],
    at: usize,
}

impl<'w> Parser<'w> {
    fn new(words: &'w [String]) -> Self {
        Self { words, at: 0 }
    }

    fn error(&self, index: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            words: self.words.to_vec(),
            index,
            message: message.into(),
        }
    }

    fn parse(mut self, now_ms: i64, times: bool) -> Result<Statement, ParseError> {
        let mut statement = Statement {
            subjects: self.values()?,
            ..Statement::default()
        };
        let mut seen: Vec<Keyword> = Vec::new();
        while self.at < self.words.len() {
            let index = self.at;
            let word = &self.words[index];
            let keyword = Keyword::of(word).expect("values() stops at a keyword");
            self.at += 1;
            if seen.contains(&keyword) {
                return Err(self.error(
                    index,
                    format!(
                        "'{word}' comes twice; list all {}s after one",
                        keyword.values()
                    ),
                ));
            }
            seen.push(keyword);
            let is_time = matches!(keyword, Keyword::Since | Keyword::Until | Keyword::Between);
            if is_time && !times {
                return Err(self.error(
                    index,
                    format!("'{word}' belongs to queries; date a claim with --at TIME"),
                ));
            }
            let clash = match keyword {
                Keyword::Between => {
                    seen.contains(&Keyword::Since) || seen.contains(&Keyword::Until)
                }
                Keyword::Since | Keyword::Until => seen.contains(&Keyword::Between),
                _ => false,
            };
            if clash {
                return Err(self.error(
                    index,
                    "'between' sets both ends of the time range; drop 'since' and 'until'",
                ));
            }
            match keyword {
                Keyword::Is | Keyword::Of | Keyword::By => {
                    let values = self.values()?;
                    if values.is_empty() {
                        return Err(self.error(
                            index,
                            format!("'{word}' needs at least one {} after it", keyword.values()),
                        ));
                    }
                    *match keyword {
                        Keyword::Is => &mut statement.predicates,
                        Keyword::Of => &mut statement.contexts,
                        _ => &mut statement.actors,
                    } = values;
                }
                Keyword::Since => statement.since = Some(self.time(index, now_ms, Edge::Start)?),
                Keyword::Until => statement.until = Some(self.time(index, now_ms, Edge::End)?),
                Keyword::Between => {
                    let and = self.words[self.at..]
                        .iter()
                        .take_while(|w| Keyword::of(w).is_none())
                        .position(|w| w.eq_ignore_ascii_case("and"))
                        .map(|offset| self.at + offset)
                        .ok_or_else(|| {
                            self.error(index, "'between' needs 'TIME and TIME' after it")
                        })?;
                    let since = self.time_in(index, self.at, and, now_ms, Edge::Start)?;
                    self.at = and + 1;
                    let until = self.time(and, now_ms, Edge::End)?;
                    if since > until {
                        return Err(self.error(index, "'between' needs the earlier time first"));
                    }
                    (statement.since, statement.until) = (Some(since), Some(until));
                }
            }
        }
        if let (Some(since), Some(until)) = (statement.since, statement.until)
            && since > until
        {
            let index = self
                .words
                .iter()
                .position(|w| w.eq_ignore_ascii_case("until"))
                .unwrap_or_default();
            return Err(self.error(index, "'until' is before 'since'"));
        }
        Ok(statement)
    }

    /// Words up to the next keyword.
    fn values(&mut self) -> Result<Vec<String>, ParseError> {
        let mut values = Vec::new();
        while let Some(word) = self.words.get(self.at) {
            if Keyword::of(word).is_some() {
                break;
            }
            if let Some(keyword) = near_miss(word) {
                return Err(self.error(
                    self.at,
                    format!(
                        "unknown word; did you mean '{keyword}'? (pass a value like this with \
                         --subject, --predicate, --context or --actor)"
                    ),
                ));
            }
            if word.trim().is_empty() {
                return Err(self.error(self.at, "an empty value"));
            }
            values.push(word.clone());
            self.at += 1;
        }
        Ok(values)
    }

    /// The time after keyword `keyword_at`, up to the next keyword.
    fn time(&mut self, keyword_at: usize, now_ms: i64, edge: Edge) -> Result<i64, ParseError> {
        let end = self.words[self.at..]
            .iter()
            .position(|w| Keyword::of(w).is_some())
            .map_or(self.words.len(), |offset| self.at + offset);
        let time = self.time_in(keyword_at, self.at, end, now_ms, edge)?;
        self.at = end;
        Ok(time)
    }

    fn time_in(
        &self,
        keyword_at: usize,
        start: usize,
        end: usize,
        now_ms: i64,
        edge: Edge,
    ) -> Result<i64, ParseError> {
        if start == end {
            return Err(self.error(
                keyword_at,
                format!("'{}' needs a time after it", self.words[keyword_at]),
            ));
        }
        let text = self.words[start..end].join(" ");
        when::parse(&text, now_ms, edge).map_err(|message| self.error(start, message))
    }
}

/// The time keyword `word` misses by one deleted, added or swapped letter, if any.
fn near_miss(word: &str) -> Option<&'static str> {
    let word = word.to_lowercase();
    if word.chars().count() < 4 {
        return None;
    }
    TIME_KEYWORDS.into_iter().find(|keyword| {
        let (a, b): (Vec<char>, Vec<char>) = (word.chars().collect(), keyword.chars().collect());
        let (short, long) = if a.len() < b.len() {
            (&a, &b)
        } else {
            (&b, &a)
        };
        match long.len() - short.len() {
            1 => (0..long.len()).any(|skip| {
                long.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, c)| c)
                    .eq(short.iter())
            }),
            0 => {
                let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
                differ.len() == 2
                    && differ[1] == differ[0] + 1
                    && a[differ[0]] == b[differ[1]]
                    && a[differ[1]] == b[differ[0]]
            }
            _ => false,
        }
    })
}

impl fmt::Display for Statement {
    /// The statement in the grammar's own words: `ALICE is author of github by bob`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![self.subjects.join(" ")];
        for (keyword, values) in [
            ("is", &self.predicates),
            ("of", &self.contexts),
            ("by", &self.actors),
        ] {
            if !values.is_empty() {
                parts.push(format!("{keyword} {}", values.join(" ")));
            }
        }
        write!(f, "{}", parts.join(" ").trim())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_splits_into_words_with_quotes_kept_together() {
        let words = split(r#"ALICE is author of "New York" by 'bob smith'  since "7 days ago""#);
        assert_eq!(
            words.unwrap(),
            [
                "ALICE",
                "is",
                "author",
                "of",
                "New York",
                "by",
                "bob smith",
                "since",
                "7 days ago"
            ]
        );
        assert_eq!(split("   ").unwrap(), Vec::<String>::new());
        assert_eq!(split(r#"a """#).unwrap(), ["a", ""]);
        let open = split(r#"ALICE of "New York"#).unwrap_err();
        assert_eq!(open.index, 2);
        assert!(open.message.contains("not closed"), "{open}");
    }

    use super::*;

    /// 2024-05-10T15:30:00Z
    const NOW: i64 = 1_715_355_000_000;
    const DAY: i64 = 86_400_000;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn ax(text: &str) -> Statement {
        parse_ax(&words(text), NOW).unwrap_or_else(|e| panic!("{e}\n{}", e.pointer()))
    }

    fn ax_error(text: &str) -> ParseError {
        parse_ax(&words(text), NOW).expect_err(text)
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn every_clause_fills_its_dimension() {
        let s = ax("ALICE BOB is author maintainer of github via carol dave");
        assert_eq!(s.subjects, ["ALICE", "BOB"]);
        assert_eq!(s.predicates, ["author", "maintainer"]);
        assert_eq!(s.contexts, ["github"]);
        assert_eq!(s.actors, ["carol", "dave"]);
        assert_eq!((s.since, s.until), (None, None));
        let s = ax("are member FROM acme BY hr");
        assert!(s.subjects.is_empty());
        assert_eq!(
            (s.predicates, s.contexts, s.actors),
            (strings(&["member"]), strings(&["acme"]), strings(&["hr"]))
        );
        assert_eq!(ax(""), Statement::default());
        assert_eq!(
            ax("of github is author").predicates,
            ["author"],
            "clauses in any order"
        );
    }

    #[test]
    fn values_with_spaces_stay_one_value() {
        let s = parse_ax(&strings(&["New York", "is", "a city"]), NOW).unwrap();
        assert_eq!(
            (s.subjects, s.predicates),
            (strings(&["New York"]), strings(&["a city"]))
        );
    }

    #[test]
    fn times_take_one_word_or_several() {
        assert_eq!(
            ax("ALICE is author since 7 days ago").since,
            Some(NOW - 7 * DAY)
        );
        let quoted = parse_ax(&strings(&["ALICE", "since", "7 days ago"]), NOW).unwrap();
        assert_eq!(quoted.since, Some(NOW - 7 * DAY));
        let s = ax("since 2024-05-01 until 2024-05-02 by bob");
        assert_eq!(s.since, Some(1_714_521_600_000));
        assert_eq!(
            s.until,
            Some(1_714_694_400_000 - 1),
            "until a day includes the day"
        );
        assert_eq!(s.actors, ["bob"]);
        let s = ax("x between 2 days ago and yesterday is y");
        assert_eq!(s.since, Some(NOW - 2 * DAY));
        assert_eq!(s.until, Some(1_715_299_200_000 - 1));
        assert_eq!(s.predicates, ["y"]);
    }

    #[test]
    fn errors_point_at_the_offending_word() {
        let e = ax_error("ALICE is author sinc 7 days ago");
        assert_eq!(e.index, 3);
        assert_eq!(
            e.to_string(),
            "unknown word; did you mean 'since'? (pass a value like this with --subject, \
             --predicate, --context or --actor) at word 4 'sinc'"
        );
        assert_eq!(
            e.pointer(),
            "  ALICE is author sinc 7 days ago\n                  ^^^^"
        );
        for (text, index, start) in [
            (
                "ALICE is of github",
                1,
                "'is' needs at least one predicate after it",
            ),
            ("ALICE by", 1, "'by' needs at least one actor after it"),
            ("ALICE since", 1, "'since' needs a time after it"),
            (
                "ALICE since last tuesday",
                2,
                "'last tuesday' is not a time",
            ),
            (
                "ALICE is a is b",
                3,
                "'is' comes twice; list all predicates after one",
            ),
            (
                "between yesterday",
                0,
                "'between' needs 'TIME and TIME' after it",
            ),
            (
                "between today and yesterday",
                0,
                "'between' needs the earlier time first",
            ),
            (
                "since today between 2 days ago and now",
                2,
                "'between' sets both ends",
            ),
            (
                "between 2 days ago and now until now",
                6,
                "'between' sets both ends",
            ),
            (
                "since today until yesterday",
                2,
                "'until' is before 'since'",
            ),
            ("x untill now", 1, "unknown word; did you mean 'until'?"),
            ("x is betwen", 2, "unknown word; did you mean 'between'?"),
            ("x is snice", 2, "unknown word; did you mean 'since'?"),
        ] {
            let e = ax_error(text);
            assert_eq!(e.index, index, "{text}: {e}");
            assert!(e.message.starts_with(start), "{text}: {e}");
        }
        assert_eq!(
            ax("mince is bye").subjects,
            ["mince"],
            "substitutions are values"
        );
    }

    #[test]
    fn as_takes_dimensions_and_refuses_times() {
        let s = parse_as(&words("ALICE is author of github by bob")).unwrap();
        assert_eq!(s.to_string(), "ALICE is author of github by bob");
        let e = parse_as(&words("ALICE is author since today")).unwrap_err();
        assert_eq!(e.index, 3);
        assert_eq!(
            e.message,
            "'since' belongs to queries; date a claim with --at TIME"
        );
    }
}
