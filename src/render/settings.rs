//! `[render]` of `config.toml`: the renderer's own settings (config reads the file and
//! reports key and line; the type and its meaning live here).
use serde::Deserialize;

/// `[render]`: how the digest shows each paper.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// `summary` (default): the source's AI summary or the abstract's first sentences, the
    /// full abstract one click away; `full`: the (shortened) abstract under the summary too.
    #[serde(default, rename = "abstract")]
    pub abstract_mode: AbstractMode,
    /// The colour of the newsletter's name and links in its mails and pages, `#rrggbb`
    /// (default the blue `#1a56db`): with several newsletters, each may have its own
    /// (`[newsletters.render]`).
    #[serde(default)]
    pub accent: Option<Accent>,
}

/// A colour as `#rrggbb` (lower case), checked when the config is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Accent(String);

impl TryFrom<String> for Accent {
    type Error = String;
    fn try_from(s: String) -> Result<Accent, String> {
        let hex = s.strip_prefix('#').unwrap_or("");
        if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Accent(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{s}` is not a colour like \"#0b7a53\" (# and six hex digits)"
            ))
        }
    }
}

impl Accent {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The default accent, as the style sheet and the mails' inline styles write it.
pub const DEFAULT_ACCENT: &str = "#1a56db";

/// `html` (a page or mail rendered by us) with the default accent replaced by `accent` in
/// its `style="…"` and `bgcolor="…"` attribute values only. Text from feeds cannot hold
/// such an attribute: maud writes every `"` of text as `&quot;`, so nothing a paper says is
/// changed.
pub fn with_accent(html: String, accent: Option<&Accent>) -> String {
    let Some(accent) = accent.map(Accent::as_str).filter(|a| *a != DEFAULT_ACCENT) else {
        return html;
    };
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = ["style=\"", "bgcolor=\""]
        .iter()
        .filter_map(|attr| rest.find(attr).map(|i| i + attr.len()))
        .min()
    {
        let end = rest[at..].find('"').map_or(rest.len(), |e| at + e);
        out.push_str(&rest[..at]);
        out.push_str(&rest[at..end].replace(DEFAULT_ACCENT, accent));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accent_recolours_our_attributes_and_never_a_papers_text() {
        let accent = Accent::try_from("#0B7A53".to_string()).unwrap();
        let html = r##"<a style="color:#1a56db;x" href="#1a56db">#1a56db style=&quot;color:#1a56db&quot;</a><td bgcolor="#1a56db">"##;
        assert_eq!(
            with_accent(html.to_string(), Some(&accent)),
            r##"<a style="color:#0b7a53;x" href="#1a56db">#1a56db style=&quot;color:#1a56db&quot;</a><td bgcolor="#0b7a53">"##
        );
        assert_eq!(with_accent(html.to_string(), None), html);
        for bad in ["0b7a53", "#0b7a5", "#0b7a5g", "red", "#0b7a53;x"] {
            assert!(Accent::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AbstractMode {
    #[default]
    Summary,
    Full,
}
