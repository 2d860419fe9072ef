//! A Rust tokenizer for the layering guard: just enough of the lexical grammar that nothing
//! inside a comment, a string or a char literal can pass for code. Comments of every kind
//! (line, nested block, doc) vanish; strings (plain, raw with any number of `#`, byte, C) become
//! one [`Tok::Str`]; char and byte literals become [`Tok::Lit`], lifetimes [`Tok::Lifetime`].

/// One token. Keywords are identifiers; the parser tells them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword (`r#type` is `type`).
    Ident(String),
    /// `::`.
    Sep,
    /// Any other punctuation, one character at a time.
    Punct(char),
    /// A string literal's raw text between its quotes (for `#[path = "..."]`).
    Str(String),
    /// A char, byte or number literal.
    Lit,
    /// `'a`.
    Lifetime,
}

/// A token and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

/// The tokens of `src`, or what could not be read and where (`12: unterminated string`).
pub fn tokens(src: &str) -> Result<Vec<Token>, String> {
    let mut lx = Lexer {
        s: src.chars().collect(),
        i: 0,
        line: 1,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    line: usize,
    out: Vec<Token>,
}

fn ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            let line = self.line;
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '/' if self.peek(1) == Some('*') => self.block_comment(line)?,
                '"' => {
                    self.bump();
                    let text = self.quoted(line)?;
                    self.push(Tok::Str(text), line);
                }
                '\'' => self.quote(line)?,
                ':' if self.peek(1) == Some(':') => {
                    self.i += 2;
                    self.push(Tok::Sep, line);
                }
                c if ident_start(c) => self.word(line)?,
                c if c.is_ascii_digit() => self.number(line),
                c => {
                    self.bump();
                    self.push(Tok::Punct(c), line);
                }
            }
        }
        Ok(())
    }

    /// `/* ... */`, nested ones included.
    fn block_comment(&mut self, line: usize) -> Result<(), String> {
        self.i += 2;
        let mut depth = 1;
        while depth > 0 {
            match (self.peek(0), self.peek(1)) {
                (Some('/'), Some('*')) => {
                    self.i += 2;
                    depth += 1;
                }
                (Some('*'), Some('/')) => {
                    self.i += 2;
                    depth -= 1;
                }
                (Some(_), _) => {
                    self.bump();
                }
                (None, _) => return Err(format!("{line}: unterminated block comment")),
            }
        }
        Ok(())
    }

    /// The rest of a `"`-quoted literal whose opening quote is consumed, escapes honoured.
    fn quoted(&mut self, line: usize) -> Result<String, String> {
        let mut text = String::new();
        loop {
            match self.bump() {
                Some('\\') => {
                    text.push('\\');
                    if let Some(c) = self.bump() {
                        text.push(c);
                    }
                }
                Some('"') => return Ok(text),
                Some(c) => text.push(c),
                None => return Err(format!("{line}: unterminated string")),
            }
        }
    }

    /// A raw string after its prefix: `#`s, a quote, and everything up to the quote followed by
    /// as many `#`s. No escapes.
    fn raw(&mut self, line: usize) -> Result<String, String> {
        let mut hashes = 0;
        while self.peek(0) == Some('#') {
            self.bump();
            hashes += 1;
        }
        if self.bump() != Some('"') {
            return Err(format!("{line}: malformed raw string"));
        }
        let mut text = String::new();
        loop {
            match self.bump() {
                Some('"') if (0..hashes).all(|k| self.peek(k) == Some('#')) => {
                    self.i += hashes;
                    return Ok(text);
                }
                Some(c) => text.push(c),
                None => return Err(format!("{line}: unterminated raw string")),
            }
        }
    }

    /// A char literal (`'a'`, `'\''`, `'\u{1F600}'`) or a lifetime (`'a`, `'static`).
    fn quote(&mut self, line: usize) -> Result<(), String> {
        if self.peek(1) == Some('\\') {
            self.i += 2;
            self.bump();
            while self.peek(0).is_some_and(|c| c != '\'' && c != '\n') {
                self.bump();
            }
            if self.bump() != Some('\'') {
                return Err(format!("{line}: unterminated char literal"));
            }
            self.push(Tok::Lit, line);
        } else if self.peek(2) == Some('\'') && self.peek(1) != Some('\n') {
            self.i += 3;
            self.push(Tok::Lit, line);
        } else if self.peek(1).is_some_and(ident_start) {
            self.bump();
            while self.peek(0).is_some_and(ident_char) {
                self.bump();
            }
            self.push(Tok::Lifetime, line);
        } else {
            return Err(format!("{line}: stray quote"));
        }
        Ok(())
    }

    /// An identifier, or the prefix of a raw identifier, raw/byte/C string or byte literal.
    fn word(&mut self, line: usize) -> Result<(), String> {
        let start = self.i;
        while self.peek(0).is_some_and(ident_char) {
            self.bump();
        }
        let word: String = self.s[start..self.i].iter().collect();
        let next = self.peek(0);
        let raw_quote = {
            let mut k = 0;
            while self.peek(k) == Some('#') {
                k += 1;
            }
            self.peek(k) == Some('"')
        };
        match word.as_str() {
            "r" | "br" | "cr" if raw_quote => {
                let text = self.raw(line)?;
                self.push(Tok::Str(text), line);
            }
            "r" if next == Some('#') && self.peek(1).is_some_and(ident_start) => {
                self.bump();
                let start = self.i;
                while self.peek(0).is_some_and(ident_char) {
                    self.bump();
                }
                let name = self.s[start..self.i].iter().collect();
                self.push(Tok::Ident(name), line);
            }
            "b" | "c" if next == Some('"') => {
                self.bump();
                let text = self.quoted(line)?;
                self.push(Tok::Str(text), line);
            }
            "b" if next == Some('\'') => self.quote(line)?,
            _ => self.push(Tok::Ident(word), line),
        }
        Ok(())
    }

    /// A number: digits, suffixes and a fraction (`1_000u32`, `0x1F`, `2.5`), not a range
    /// (`1..2`) or a method call (`1.max(2)`).
    fn number(&mut self, line: usize) {
        while self.peek(0).is_some_and(ident_char)
            || (self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()))
        {
            self.bump();
        }
        self.push(Tok::Lit, line);
    }
}
