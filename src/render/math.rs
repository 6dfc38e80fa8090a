//! TeX in titles, abstracts and author names → Unicode text, for email and the web pages.
//!
//! Hand-written rather than `unicodeit` (the one maintained Rust crate for this): that crate
//! replaces symbol names anywhere in a string, with no idea of where math starts and ends,
//! so it cannot keep `$5 and $10` as prices, cannot tell a converted segment from a
//! half-converted one, and does not do `\frac`, `\sqrt` or text accents (`\'{e}`); it would
//! also bring `regex` into the tree. This module is small and pure:
//!
//! - outside math, text accents and escapes (`Andr\'e`, `R\'{e}nyi`, `{\"u}`, `85\%`) become
//!   the characters; unknown commands stay as they are;
//! - a math segment (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`) is converted as a whole — Greek,
//!   operators and relations, `\mathcal`/`\mathbb`/`\mathbf` letters, sub/superscripts where
//!   Unicode has them (`x_i^2` → `xᵢ²`, else `x_KL`), `\frac{a}{b}` → `a/b`, `\sqrt`,
//!   `\text{…}` — or, when anything in it is unknown, shown as its tidy source
//!   (`$\begin{cases}…$`), never half-converted;
//! - `$` opens math only as Pandoc reads it (a non-space after the opener, a non-space before
//!   the closer, no digit right after it), so `$5 and $10` stay prices.
use std::borrow::Cow;

/// Converts the TeX in `s` to Unicode text. Text without `$` or `\` comes back borrowed.
pub(crate) fn tex_to_unicode(s: &str) -> Cow<'_, str> {
    if !s.contains(['$', '\\']) {
        return Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some((body, end, _)) = math_at(&chars, i) {
            let source: String = chars[i..end].iter().collect();
            out.push_str(&convert_math(&body).unwrap_or_else(|| tidy_source(&source)));
            i = end;
            continue;
        }
        i = text_at(&chars, i, &mut out);
    }
    Cow::Owned(out)
}

/// A math segment starting at `i`: its body, the index after it, and whether it was display.
fn math_at(c: &[char], i: usize) -> Option<(Vec<char>, usize, bool)> {
    let at = |k: usize| c.get(k).copied();
    match (at(i)?, at(i + 1)) {
        ('\\', Some(open @ ('(' | '['))) => {
            let close = if open == '(' { ')' } else { ']' };
            let mut k = i + 2;
            while k + 1 < c.len() {
                if c[k] == '\\' && c[k + 1] == close {
                    return Some((c[i + 2..k].to_vec(), k + 2, open == '['));
                }
                k += 1;
            }
            None
        }
        ('$', Some('$')) => {
            let mut k = i + 2;
            while k + 1 < c.len() {
                if c[k] == '$' && c[k + 1] == '$' {
                    return (k > i + 2).then(|| (c[i + 2..k].to_vec(), k + 2, true));
                }
                k += 1;
            }
            None
        }
        ('$', Some(next)) if !next.is_whitespace() => {
            // An escaped dollar (`\$`) is text, handled before we get here.
            let mut k = i + 1;
            while k < c.len() {
                if c[k] == '\\' {
                    k += 2;
                    continue;
                }
                if c[k] == '$' {
                    let before = c[k - 1];
                    let body = &c[i + 1..k];
                    // `$\sim$100` is math; `$5-$10` is two prices.
                    let texy = body.len() == 1
                        || body
                            .iter()
                            .any(|b| matches!(b, '\\' | '^' | '_' | '{' | '=' | '<' | '>'));
                    let after_is_digit = at(k + 1).is_some_and(|d| d.is_ascii_digit());
                    if k > i + 1 && !before.is_whitespace() && (texy || !after_is_digit) {
                        return Some((c[i + 1..k].to_vec(), k + 1, false));
                    }
                    // A `$` that cannot close cannot be closed past either: `$5 and $10`.
                    return None;
                }
                k += 1;
            }
            None
        }
        _ => None,
    }
}

/// Copies text-mode input at `i` into `out`, converting accents and escapes; returns the next index.
fn text_at(c: &[char], i: usize, out: &mut String) -> usize {
    let at = |k: usize| c.get(k).copied();
    // `{\"u}` and `{\'{e}}`: braces that only wrap an accent go with it.
    if c[i] == '{'
        && at(i + 1) == Some('\\')
        && let Some((ch, next)) = accent_at(c, i + 1)
        && at(next) == Some('}')
    {
        out.push_str(&ch);
        return next + 1;
    }
    if c[i] != '\\' {
        out.push(c[i]);
        return i + 1;
    }
    if let Some((ch, next)) = accent_at(c, i) {
        out.push_str(&ch);
        return next;
    }
    if let Some(e @ ('%' | '$' | '&' | '#' | '_' | '{' | '}')) = at(i + 1) {
        out.push(e);
        return i + 2;
    }
    let (name, after) = command_name(c, i);
    if let Some(letter) = text_letter(&name) {
        out.push_str(letter);
        return skip_space_after_word(c, after, &name);
    }
    // `\emph{…}` and friends: the words, without the command.
    if matches!(
        name.as_str(),
        "emph" | "textit" | "textbf" | "texttt" | "textrm" | "textsf" | "textsc" | "underline"
    ) && at(after) == Some('{')
        && let Some(close) = matching_brace(c, after)
    {
        let inner: String = c[after + 1..close].iter().collect();
        out.push_str(&tex_to_unicode(&inner));
        return close + 1;
    }
    out.push('\\');
    i + 1
}

/// `\'e`, `\'{e}`, `\"{\i}`, `\c c`: the accented letter and the index after it.
fn accent_at(c: &[char], i: usize) -> Option<(String, usize)> {
    let kind = *c.get(i + 1)?;
    let word_accent = matches!(kind, 'c' | 'v' | 'u' | 'H' | 'k' | 'r' | 'd' | 'b');
    if !matches!(kind, '\'' | '"' | '`' | '^' | '~' | '=' | '.') && !word_accent {
        return None;
    }
    let mut k = i + 2;
    if word_accent {
        // `\c{c}` or `\c c`; `\cite` is not an accent.
        match c.get(k) {
            Some('{') => {}
            Some(' ') => k += 1,
            _ => return None,
        }
    }
    let base = if c.get(k) == Some(&'{') {
        let close = matching_brace(c, k)?;
        let inner: String = c[k + 1..close].iter().collect();
        k = close + 1;
        inner
    } else {
        let ch = *c.get(k)?;
        k += 1;
        if ch == '\\' {
            let (name, after) = command_name(c, k - 1);
            k = after;
            format!("\\{name}")
        } else {
            ch.to_string()
        }
    };
    let base = match base.trim() {
        "\\i" => 'ı',
        "\\j" => 'ȷ',
        b => {
            let mut it = b.chars();
            match (it.next(), it.next()) {
                (Some(ch), None) if ch.is_alphabetic() => ch,
                _ => return None,
            }
        }
    };
    Some((accented(base, kind), k))
}

fn accented(base: char, kind: char) -> String {
    let base = if base == 'ı' { 'i' } else { base };
    let (plain, composed, mark) = match kind {
        '\'' => (
            "aeiouyAEIOUYcCnNsSzZlLrRgG",
            "áéíóúýÁÉÍÓÚÝćĆńŃśŚźŹĺĹŕŔǵǴ",
            '\u{301}',
        ),
        '`' => ("aeiouAEIOU", "àèìòùÀÈÌÒÙ", '\u{300}'),
        '^' => ("aeiouAEIOUcgsCGSywYW", "âêîôûÂÊÎÔÛĉĝŝĈĜŜŷŵŶŴ", '\u{302}'),
        '"' => ("aeiouyAEIOUY", "äëïöüÿÄËÏÖÜŸ", '\u{308}'),
        '~' => ("anoANOiuIU", "ãñõÃÑÕĩũĨŨ", '\u{303}'),
        '=' => ("aeiouAEIOU", "āēīōūĀĒĪŌŪ", '\u{304}'),
        '.' => ("zeIgcZEGCx", "żėİġċŻĖĠĊẋ", '\u{307}'),
        'c' => ("cCsStTeE", "çÇşŞţŢȩȨ", '\u{327}'),
        'v' => ("csznrzecCSZNRZEdt", "čšžňřžěčČŠŽŇŘŽĚďť", '\u{30C}'),
        'u' => ("agAGuU", "ăğĂĞŭŬ", '\u{306}'),
        'H' => ("oOuU", "őŐűŰ", '\u{30B}'),
        'k' => ("aeAE", "ąęĄĘ", '\u{328}'),
        'r' => ("auAU", "åůÅŮ", '\u{30A}'),
        'd' => ("", "", '\u{323}'),
        _ => ("", "", '\u{331}'),
    };
    if let Some(pos) = plain.chars().position(|p| p == base)
        && let Some(ch) = composed.chars().nth(pos)
    {
        return ch.to_string();
    }
    format!("{base}{mark}")
}

fn text_letter(name: &str) -> Option<&'static str> {
    Some(match name {
        "ss" => "ß",
        "o" => "ø",
        "O" => "Ø",
        "aa" => "å",
        "AA" => "Å",
        "ae" => "æ",
        "AE" => "Æ",
        "oe" => "œ",
        "OE" => "Œ",
        "l" => "ł",
        "L" => "Ł",
        "i" => "ı",
        "textendash" => "–",
        "textemdash" => "—",
        "ldots" | "dots" => "…",
        "LaTeX" => "LaTeX",
        "TeX" => "TeX",
        _ => return None,
    })
}

/// A control word swallows one space after it (`Bj\\o rn` is "Bjørn") and an empty `{}`.
fn skip_space_after_word(c: &[char], k: usize, name: &str) -> usize {
    let is_letter = name.len() <= 2 && name.chars().all(|ch| ch.is_ascii_alphabetic());
    match (c.get(k), c.get(k + 1)) {
        (Some('{'), Some('}')) => k + 2,
        (Some(' '), Some(next)) if is_letter && next.is_alphabetic() => k + 1,
        _ => k,
    }
}

/// The command at `c[i] == '\\'`: its name (letters, or one other character) and the index after.
fn command_name(c: &[char], i: usize) -> (String, usize) {
    let mut k = i + 1;
    let mut name = String::new();
    while let Some(&ch) = c.get(k) {
        if !ch.is_ascii_alphabetic() {
            break;
        }
        name.push(ch);
        k += 1;
    }
    if name.is_empty()
        && let Some(&ch) = c.get(k)
    {
        name.push(ch);
        k += 1;
    }
    (name, k)
}

fn matching_brace(c: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut k = open;
    while k < c.len() {
        match c[k] {
            '\\' => k += 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// What a segment that cannot be converted shows: its source, spaces tidied.
fn tidy_source(source: &str) -> String {
    crate::domain::collapse_whitespace(source)
}

// ---------------------------------------------------------------------------------------------
// Math mode

/// Converts a math body, or `None` when anything in it has no faithful Unicode form.
fn convert_math(body: &[char]) -> Option<String> {
    let mut p = Parser { c: body, i: 0 };
    let out = p.sequence(None)?;
    (p.i >= body.len()).then(|| collapse_spaces(&out))
}

fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.trim().chars() {
        if ch == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(ch);
    }
    out
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

/// One converted atom, with what sub/superscripts need to know about it.
struct Atom {
    text: String,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    /// Atoms until `until` (a closing brace) or the end.
    fn sequence(&mut self, until: Option<char>) -> Option<String> {
        let mut out = String::new();
        while let Some(ch) = self.peek() {
            if Some(ch) == until {
                return Some(out);
            }
            match ch {
                '^' | '_' => {
                    self.i += 1;
                    let arg = self.argument()?;
                    out.push_str(&script(&arg, ch == '^'));
                }
                '}' => return None,
                _ => {
                    let atom = self.atom()?;
                    out.push_str(&atom.text);
                }
            }
        }
        until.is_none().then_some(out)
    }

    /// A `{group}` or a single atom: the argument of a command or a script.
    fn argument(&mut self) -> Option<String> {
        while self.peek() == Some(' ') {
            self.i += 1;
        }
        if self.peek() == Some('{') {
            self.i += 1;
            let inner = self.sequence(Some('}'))?;
            self.i += 1;
            return Some(collapse_spaces(&inner));
        }
        match self.peek()? {
            '^' | '_' | '}' => None,
            _ => Some(self.atom()?.text),
        }
    }

    /// The raw text of a `{group}` (for `\text{…}`), converted as text.
    fn raw_group(&mut self) -> Option<String> {
        if self.peek() != Some('{') {
            return None;
        }
        let close = matching_brace(self.c, self.i)?;
        let inner: String = self.c[self.i + 1..close].iter().collect();
        self.i = close + 1;
        Some(tex_to_unicode(&inner).into_owned())
    }

    fn atom(&mut self) -> Option<Atom> {
        let ch = self.peek()?;
        self.i += 1;
        let text = match ch {
            '\\' => return self.command(),
            '{' => {
                let inner = self.sequence(Some('}'))?;
                self.i += 1;
                inner
            }
            '~' => " ".to_string(),
            '&' | '#' | '%' => return None,
            '\'' => "′".to_string(),
            '*' => "*".to_string(),
            c if c.is_whitespace() => " ".to_string(),
            c => c.to_string(),
        };
        Some(Atom { text })
    }

    fn command(&mut self) -> Option<Atom> {
        let (name, after) = command_name(self.c, self.i - 1);
        self.i = after;
        let word = name.chars().all(|ch| ch.is_ascii_alphabetic());
        let text = if let Some(sym) = symbol(&name) {
            sym.to_string()
        } else if let Some(op) = operator_name(&name) {
            format!(" {op} ")
        } else {
            match name.as_str() {
                "," | ":" | ";" | " " | "quad" | "qquad" | "enspace" => " ".to_string(),
                "!" | "left" | "right" | "big" | "Big" | "bigg" | "Bigg" | "bigl" | "bigr"
                | "Bigl" | "Bigr" | "displaystyle" | "textstyle" | "limits" | "nolimits" => {
                    String::new()
                }
                "{" | "}" | "%" | "$" | "&" | "#" | "_" | "|" => {
                    if name == "|" {
                        "‖".to_string()
                    } else {
                        name.clone()
                    }
                }
                "text" | "textrm" | "textit" | "textbf" | "mathrm" | "mathit" | "mathsf"
                | "mathtt" | "texttt" | "textsf" | "operatorname" | "boldsymbol" | "bm" => {
                    if matches!(
                        name.as_str(),
                        "text" | "textrm" | "textit" | "textbf" | "texttt" | "textsf"
                    ) {
                        self.raw_group()?
                    } else {
                        self.argument()?
                    }
                }
                "mathcal" | "mathscr" | "mathbb" | "mathbf" | "mathfrak" => {
                    let arg = self.argument()?;
                    arg.chars()
                        .map(|ch| styled(&name, ch))
                        .collect::<Option<String>>()?
                }
                "frac" | "tfrac" | "dfrac" => {
                    let num = self.argument()?;
                    let den = self.argument()?;
                    format!("{}/{}", wrap(&num), wrap(&den))
                }
                "sqrt" => {
                    let root = if self.peek() == Some('[') {
                        let close = self.c[self.i..].iter().position(|&ch| ch == ']')? + self.i;
                        let n: String = self.c[self.i + 1..close].iter().collect();
                        self.i = close + 1;
                        match n.trim() {
                            "3" => '∛',
                            "4" => '∜',
                            _ => return None,
                        }
                    } else {
                        '√'
                    };
                    let arg = self.argument()?;
                    format!("{root}{}", wrap(&arg))
                }
                "hat" | "widehat" | "bar" | "overline" | "tilde" | "widetilde" | "vec" | "dot"
                | "ddot" => {
                    let arg = self.argument()?;
                    let mut it = arg.chars();
                    let (Some(base), None) = (it.next(), it.next()) else {
                        return None;
                    };
                    match name.as_str() {
                        "vec" => format!("{base}\u{20D7}"),
                        "hat" | "widehat" => accented(base, '^'),
                        "bar" | "overline" => accented(base, '='),
                        "tilde" | "widetilde" => accented(base, '~'),
                        "dot" => accented(base, '.'),
                        _ => accented(base, '"'),
                    }
                }
                _ => return None,
            }
        };
        // `\alpha x`: the space after a control word only ends its name.
        // (`\lambda \to 0` keeps its spaces: they separate, they do not juxtapose.)
        if word && !text.ends_with(' ') && symbol_is_letter(&text) {
            let mut k = self.i;
            while self.c.get(k) == Some(&' ') {
                k += 1;
            }
            if self.c.get(k).is_some_and(|c| c.is_alphanumeric()) {
                self.i = k;
            }
        }
        Some(Atom { text })
    }
}

fn symbol_is_letter(text: &str) -> bool {
    text.chars().all(|c| c.is_alphabetic())
}

/// `a+b` in a fraction or root needs parentheses to read right; `a` and `2n` do not.
fn wrap(s: &str) -> String {
    let s = s.trim();
    if s.chars()
        .all(|c| c.is_alphanumeric() || c == '.' || c == '′')
        || (s.starts_with('(') && s.ends_with(')'))
    {
        s.to_string()
    } else {
        format!("({s})")
    }
}

/// `x^2` → `x²` when every character has a script form; else `x^(…)` / `x_KL`.
fn script(arg: &str, sup: bool) -> String {
    let arg = arg.trim();
    let mapped: Option<String> = arg
        .chars()
        .map(|c| if sup { superscript(c) } else { subscript(c) })
        .collect();
    if let Some(m) = mapped
        && !m.is_empty()
    {
        return m;
    }
    let mark = if sup { '^' } else { '_' };
    if arg.chars().count() == 1 || arg.chars().all(|c| c.is_alphanumeric()) {
        format!("{mark}{arg}")
    } else {
        format!("{mark}({arg})")
    }
}

fn superscript(c: char) -> Option<char> {
    const FROM: &str = "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφχ⊤′*";
    const TO: &str = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᵡᵀ′*";
    map_char(c, FROM, TO)
}

fn subscript(c: char) -> Option<char> {
    const FROM: &str = "0123456789+-−=()aehijklmnoprstuvxβγρφχ";
    const TO: &str = "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ";
    map_char(c, FROM, TO)
}

fn map_char(c: char, from: &str, to: &str) -> Option<char> {
    let pos = from.chars().position(|f| f == c)?;
    to.chars().nth(pos)
}

/// `\mathcal{L}` → ℒ, `\mathbb{R}` → ℝ, `\mathbf{x}` → 𝐱; spaces pass; anything else → `None`.
fn styled(style: &str, c: char) -> Option<char> {
    if c == ' ' {
        return Some(' ');
    }
    match style {
        "mathbb" => {
            let special = map_char(c, "CHNPQRZ", "ℂℍℕℙℚℝℤ");
            special.or_else(|| offset(c, 0x1D538, 0x1D552, Some(0x1D7D8)))
        }
        "mathcal" | "mathscr" => {
            map_char(c, "BEFHILMRego", "ℬℰℱℋℐℒℳℛℯℊℴ").or_else(|| offset(c, 0x1D49C, 0x1D4B6, None))
        }
        "mathfrak" => map_char(c, "CHIRZ", "ℭℌℑℜℨ").or_else(|| offset(c, 0x1D504, 0x1D51E, None)),
        _ => offset(c, 0x1D400, 0x1D41A, Some(0x1D7CE)),
    }
}

fn offset(c: char, upper: u32, lower: u32, digit: Option<u32>) -> Option<char> {
    let code = match c {
        'A'..='Z' => upper + (c as u32 - 'A' as u32),
        'a'..='z' => lower + (c as u32 - 'a' as u32),
        '0'..='9' => digit? + (c as u32 - '0' as u32),
        _ if !c.is_ascii() => return Some(c),
        _ => return None,
    };
    char::from_u32(code)
}

/// Named functions, set upright with spaces around: `n \log n` → "n log n".
fn operator_name(name: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "log", "ln", "exp", "sin", "cos", "tan", "max", "min", "arg", "argmax", "argmin", "lim",
        "sup", "inf", "det", "dim", "ker", "Pr", "deg", "gcd", "sinh", "cosh", "tanh", "mod",
        "bmod", "limsup", "liminf", "Tr", "tr", "softmax",
    ];
    NAMES.iter().find(|n| **n == name).copied()
}

fn symbol(name: &str) -> Option<&'static str> {
    Some(match name {
        // Greek
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "epsilon" => "ϵ",
        "varepsilon" => "ε",
        "zeta" => "ζ",
        "eta" => "η",
        "theta" => "θ",
        "vartheta" => "ϑ",
        "iota" => "ι",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "nu" => "ν",
        "xi" => "ξ",
        "pi" => "π",
        "varpi" => "ϖ",
        "rho" => "ρ",
        "varrho" => "ϱ",
        "sigma" => "σ",
        "varsigma" => "ς",
        "tau" => "τ",
        "upsilon" => "υ",
        "phi" => "ϕ",
        "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Gamma" => "Γ",
        "Delta" => "Δ",
        "Theta" => "Θ",
        "Lambda" => "Λ",
        "Xi" => "Ξ",
        "Pi" => "Π",
        "Sigma" => "Σ",
        "Upsilon" => "Υ",
        "Phi" => "Φ",
        "Psi" => "Ψ",
        "Omega" => "Ω",
        // letters and constants
        "ell" => "ℓ",
        "hbar" => "ℏ",
        "infty" => "∞",
        "partial" => "∂",
        "nabla" => "∇",
        "emptyset" | "varnothing" => "∅",
        "forall" => "∀",
        "exists" => "∃",
        "neg" | "lnot" => "¬",
        "aleph" => "ℵ",
        "Re" => "ℜ",
        "Im" => "ℑ",
        "prime" => "′",
        "degree" | "circ" => "∘",
        // big operators
        "sum" => "∑",
        "prod" => "∏",
        "int" => "∫",
        "oint" => "∮",
        "bigcup" => "⋃",
        "bigcap" => "⋂",
        // binary operators
        "cdot" => "·",
        "times" => "×",
        "div" => "÷",
        "pm" => "±",
        "mp" => "∓",
        "ast" => "∗",
        "star" => "⋆",
        "bullet" => "•",
        "oplus" => "⊕",
        "otimes" => "⊗",
        "odot" => "⊙",
        "wedge" | "land" => "∧",
        "vee" | "lor" => "∨",
        "cup" => "∪",
        "cap" => "∩",
        "setminus" => "∖",
        // relations
        "leq" | "le" => "≤",
        "geq" | "ge" => "≥",
        "neq" | "ne" => "≠",
        "approx" => "≈",
        "sim" => "∼",
        "simeq" => "≃",
        "cong" => "≅",
        "equiv" => "≡",
        "propto" => "∝",
        "ll" => "≪",
        "gg" => "≫",
        "lesssim" => "≲",
        "gtrsim" => "≳",
        "in" => "∈",
        "notin" => "∉",
        "ni" => "∋",
        "subset" => "⊂",
        "subseteq" => "⊆",
        "supset" => "⊃",
        "supseteq" => "⊇",
        "perp" | "bot" => "⊥",
        "top" => "⊤",
        "parallel" => "∥",
        "mid" => "∣",
        "vdash" => "⊢",
        "models" => "⊨",
        "triangleq" | "coloneqq" => "≔",
        // arrows
        "to" | "rightarrow" => "→",
        "gets" | "leftarrow" => "←",
        "leftrightarrow" => "↔",
        "Rightarrow" => "⇒",
        "Leftarrow" => "⇐",
        "Leftrightarrow" => "⇔",
        "implies" | "Longrightarrow" => "⟹",
        "iff" | "Longleftrightarrow" => "⟺",
        "longrightarrow" => "⟶",
        "mapsto" => "↦",
        "uparrow" => "↑",
        "downarrow" => "↓",
        "rightleftharpoons" => "⇌",
        // delimiters and dots
        "langle" => "⟨",
        "rangle" => "⟩",
        "lceil" => "⌈",
        "rceil" => "⌉",
        "lfloor" => "⌊",
        "rfloor" => "⌋",
        "vert" | "lvert" | "rvert" => "|",
        "Vert" | "lVert" | "rVert" => "‖",
        "ldots" | "dots" | "dotsc" => "…",
        "cdots" | "dotsb" => "⋯",
        "vdots" => "⋮",
        "ddots" => "⋱",
        "angle" => "∠",
        "checkmark" => "✓",
        "dagger" => "†",
        "S" => "§",
        _ => return None,
    })
}

#[cfg(test)]
#[path = "math_tests.rs"]
mod tests;
