//! Counting files, lines and branch points in a source tree.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use qntx_guest::{Value, json};

/// Directories that hold no source of the project's own.
const SKIPPED_DIRS: &[&str] = &[
    "target",
    "node_modules",
    "vendor",
    "dist",
    "build",
    "__pycache__",
];

/// Words and operators that open a branch, per language family; a rough cyclomatic measure.
const BRANCHES: &[&str] = &[
    "if ", "else if", "for ", "while ", "match ", "case ", "catch", "&&", "||", "?", "elif ",
    "except", "loop ", "switch",
];

/// One analysed file.
#[derive(Debug, Clone)]
pub struct File {
    /// Path relative to the tree's root.
    pub path: String,
    /// Language name.
    pub language: &'static str,
    /// All lines.
    pub lines: u64,
    /// Lines that are neither blank nor comments.
    pub code_lines: u64,
    /// Branch points found in code lines.
    pub branches: u64,
}

impl File {
    /// Branch points per 100 lines of code.
    pub fn complexity(&self) -> f64 {
        per_hundred(self.branches, self.code_lines)
    }
}

/// Every source file of a tree.
#[derive(Debug, Default)]
pub struct Tree {
    /// The files, in walk order.
    pub files: Vec<File>,
}

impl Tree {
    /// Walk `root`, skipping hidden and build directories; `progress` gets the file count.
    pub fn walk(root: &Path, mut progress: impl FnMut(u64)) -> io::Result<Self> {
        let mut tree = Self::default();
        let mut pending = vec![root.to_owned()];
        while let Some(dir) = pending.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                let kind = entry.file_type()?;
                if name.starts_with('.') || kind.is_symlink() {
                    continue;
                }
                if kind.is_dir() {
                    if !SKIPPED_DIRS.contains(&name.as_str()) {
                        pending.push(path);
                    }
                } else if let Some(language) = language(&name) {
                    let text = std::fs::read(&path)?;
                    let relative = path.strip_prefix(root).unwrap_or(&path);
                    tree.files.push(count(
                        relative.to_string_lossy().into_owned(),
                        language,
                        &String::from_utf8_lossy(&text),
                    ));
                    progress(tree.files.len() as u64);
                }
            }
        }
        Ok(tree)
    }

    /// All lines.
    pub fn lines(&self) -> u64 {
        self.files.iter().map(|f| f.lines).sum()
    }

    /// Lines of code.
    pub fn code_lines(&self) -> u64 {
        self.files.iter().map(|f| f.code_lines).sum()
    }

    /// Branch points per 100 lines of code, over the whole tree.
    pub fn complexity(&self) -> f64 {
        per_hundred(
            self.files.iter().map(|f| f.branches).sum(),
            self.code_lines(),
        )
    }

    /// Per language: files, lines, code lines, complexity.
    pub fn languages(&self) -> BTreeMap<&'static str, Value> {
        let mut totals: BTreeMap<&'static str, (u64, u64, u64, u64)> = BTreeMap::new();
        for file in &self.files {
            let entry = totals.entry(file.language).or_default();
            entry.0 += 1;
            entry.1 += file.lines;
            entry.2 += file.code_lines;
            entry.3 += file.branches;
        }
        totals
            .into_iter()
            .map(|(language, (files, lines, code, branches))| {
                (
                    language,
                    json!({ "files": files, "lines": lines, "code_lines": code, "complexity": per_hundred(branches, code) }),
                )
            })
            .collect()
    }

    /// The `n` files with the most lines of code, largest first.
    pub fn largest(&self, n: usize) -> Vec<File> {
        let mut files = self.files.clone();
        files.sort_by(|a, b| b.code_lines.cmp(&a.code_lines).then(a.path.cmp(&b.path)));
        files.truncate(n);
        files
    }
}

fn language(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1;
    Some(match extension {
        "rs" => "Rust",
        "py" => "Python",
        "js" | "mjs" | "cjs" => "JavaScript",
        "ts" | "tsx" => "TypeScript",
        "go" => "Go",
        "c" | "h" => "C",
        "cc" | "cpp" | "hpp" => "C++",
        "java" => "Java",
        "rb" => "Ruby",
        "sh" | "bash" => "Shell",
        "sql" => "SQL",
        "wit" => "WIT",
        "toml" => "TOML",
        "md" => "Markdown",
        _ => return None,
    })
}

fn count(path: String, language: &'static str, text: &str) -> File {
    let comment = match language {
        "Python" | "Shell" | "Ruby" | "TOML" => "#",
        "SQL" => "--",
        "Markdown" => "\u{0}",
        _ => "//",
    };
    let mut file = File {
        path,
        language,
        lines: 0,
        code_lines: 0,
        branches: 0,
    };
    for line in text.lines() {
        file.lines += 1;
        let code = line.trim();
        if code.is_empty() || code.starts_with(comment) {
            continue;
        }
        file.code_lines += 1;
        if language != "Markdown" {
            file.branches += BRANCHES
                .iter()
                .map(|b| code.matches(b).count() as u64)
                .sum::<u64>();
        }
    }
    file
}

fn per_hundred(count: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    (count as f64 * 10_000.0 / of as f64).round() / 100.0
}
