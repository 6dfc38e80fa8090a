//! Inline styles shared by every element of a kind. Email clients drop most of `<style>`, so
//! the light theme lives here, inline; `templates/email.css` only adds dark mode and phone
//! tweaks through the `pp-*` classes. Kept terse: they repeat for every paper (size budget).

pub(crate) const FONT: &str =
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
pub(crate) const BG: &str = "#f4f5f7";

pub(crate) const BODY: &str = "margin:0;padding:0;background:#f4f5f7";
pub(crate) const PREHEADER: &str = "display:none;font-size:1px;line-height:1px;color:#f4f5f7;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all";
pub(crate) const OUTER: &str = "padding:24px 12px";
pub(crate) const CONTAINER: &str = "width:100%;max-width:600px;margin:0 auto";

pub(crate) const HEAD: &str = "padding:24px 28px 16px";
pub(crate) const BRAND: &str = "color:#1a56db;font-size:13px;font-weight:700;letter-spacing:.08em;text-transform:uppercase;text-decoration:none";
pub(crate) const H1: &str =
    "margin:10px 0 6px;font-size:24px;line-height:32px;font-weight:800;color:#111827";
pub(crate) const INTRO: &str = "margin:0;font-size:14px;line-height:21px;color:#5b6270";

pub(crate) const CARD: &str =
    "background:#ffffff;border:1px solid #e4e7ec;border-radius:10px;padding:18px 24px";
pub(crate) const SPACER: &str = "height:12px;font-size:0;line-height:0";
/// Thumbnails are small and of a fixed size (HF social thumbnails are ~1.9:1).
pub(crate) const THUMB_W: u32 = 112;
pub(crate) const THUMB_H: u32 = 59;
pub(crate) const THUMB: &str = "display:block;border:0;border-radius:4px";
pub(crate) const KICKER: &str = "margin:0 0 8px;font-size:12px;line-height:20px;color:#5b6270";
pub(crate) const PILL: &str = "display:inline-block;padding:0 8px;border-radius:9px;background:#eef2ff;color:#3730a3;font-weight:600";
pub(crate) const TITLE: &str =
    "margin:0 0 6px;font-size:19px;line-height:26px;font-weight:700;color:#111827";
pub(crate) const TITLE_LINK: &str = "color:#1a56db;text-decoration:none";
pub(crate) const AUTHORS: &str = "margin:0 0 12px;font-size:13px;line-height:19px;color:#5b6270";
pub(crate) const SUMMARY: &str = "margin:0 0 10px;font-size:14px;line-height:21px;color:#1f2328";
pub(crate) const TAGS: &str = "margin:0 0 10px;font-size:12px;line-height:18px;color:#5b6270";
pub(crate) const LINK_PLAIN: &str = "color:#1a56db";
pub(crate) const SECTION: &str = "padding:8px 4px 8px;font-size:12px;line-height:18px;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:#5b6270";
pub(crate) const GLANCE: &str =
    "background:#ffffff;border:1px solid #e4e7ec;border-radius:10px;padding:16px 24px";
/// The editor's note: the glance card's box on a warm background.
pub(crate) const NOTE: &str =
    "background:#fffbeb;border:1px solid #f5d67b;border-radius:10px;padding:16px 24px";
pub(crate) const GLANCE_H: &str =
    "margin:0 0 8px;font-size:15px;line-height:22px;font-weight:700;color:#111827";
pub(crate) const GLANCE_LI: &str = "margin:0 0 6px;font-size:14px;line-height:20px;color:#1f2328";
pub(crate) const ABSTRACT: &str = "margin:0 0 14px;font-size:14px;line-height:22px;color:#30363d";
pub(crate) const LINKS: &str =
    "margin:0;font-size:13px;line-height:20px;font-weight:600;color:#9aa3b2";
/// The links row under each card: the colour only (`a{text-decoration:none}` in the
/// stylesheet does the rest; where `<style>` is stripped they are underlined, which reads
/// fine) — 20 bytes a link, ~2 KB over a 20-paper digest.
pub(crate) const LINK: &str = "color:#1a56db";
pub(crate) const SEP: &str = "color:#9aa3b2";
pub(crate) const FEEDBACK: &str = "margin:8px 0 0;font-size:13px";
pub(crate) const SECTION_HEAD: &str = "padding:12px 28px 16px";
pub(crate) const H2: &str =
    "margin:0 0 6px;font-size:21px;line-height:28px;font-weight:800;color:#111827";

pub(crate) const FOOT: &str =
    "padding:12px 28px 32px;font-size:12px;line-height:19px;color:#5b6270;text-align:center";
pub(crate) const FOOT_P: &str = "margin:0 0 10px";
pub(crate) const FOOT_LINK: &str = "color:#5b6270;text-decoration:underline";
pub(crate) const TOP_LINKS: &str =
    "padding:0 28px 12px;font-size:12px;line-height:18px;color:#5b6270";
