//! listmonk-compatible subscriber CSV: `email,name,attributes`, where `attributes` is a
//! JSON object. paperpost's own fields travel inside it — `topics`, `frequency`,
//! `timezone`, `send_hour`, `status` — so a list moves between listmonk and paperpost
//! without losing them. listmonk's export columns (`uuid`, `status`, `created_at`, …) are
//! read where they mean something (`status = blocklisted` is an unsubscribe) and ignored
//! otherwise; attribute keys that are not paperpost's are reported, not silently dropped.
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use chrono::Utc;
use serde_json::{Map, Value};

use super::subscribers_edit::{Given, Tally, upsert};
use crate::domain::NewSubscriber;
use crate::domain::{
    DisplayName, Frequency, StoredName, SubscriberEmail, SubscriberStatus, Topics,
};
use crate::store::Store;

/// The CSV layouts `subscribers import` and `export` speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvFormat {
    /// `email,name,topics,status,frequency,timezone,send_hour`.
    Paperpost,
    /// `email,name,attributes` with paperpost's fields in the JSON attributes.
    Listmonk,
}

/// The keys of `attributes` that are paperpost's.
const OUR_KEYS: [&str; 5] = ["topics", "frequency", "timezone", "send_hour", "status"];

/// A listmonk header: an `attributes` column and no `topics` column.
pub(super) fn is_listmonk_header(headers: &csv::StringRecord) -> bool {
    headers.iter().any(|h| h == "attributes") && !headers.iter().any(|h| h == "topics")
}

/// Imports the rows of a listmonk CSV whose header was already read.
pub(super) fn import(
    store: &Store,
    file: &Path,
    mut reader: csv::Reader<std::fs::File>,
    headers: &csv::StringRecord,
    update: bool,
) -> anyhow::Result<i32> {
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(email_at) = column("email") else {
        anyhow::bail!(
            "{}:1: the header row must name an `email` column (email,name,attributes)",
            file.display()
        );
    };
    let (name_at, attrs_at, status_at) = (column("name"), column("attributes"), column("status"));
    let mut tally = Tally::default();
    let mut foreign = BTreeSet::new();
    let now = Utc::now();
    let mut record = csv::StringRecord::new();
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => record.position().map_or(0, |p| p.line()),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                tally.record(file, line, Err(e.to_string()));
                continue;
            }
        };
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("").trim();
        let outcome = row(
            field(Some(email_at)),
            field(name_at),
            field(attrs_at),
            field(status_at),
            &mut foreign,
        )
        .and_then(|(new, given)| upsert(store, &new, given, update, now));
        tally.record(file, line, outcome);
    }
    if !foreign.is_empty() {
        eprintln!(
            "{}: attribute keys paperpost does not use were not imported: {}",
            file.display(),
            foreign.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(tally.finish())
}

/// One listmonk row as a new subscriber, and which fields it gave.
fn row(
    email: &str,
    name: &str,
    attributes: &str,
    listmonk_status: &str,
    foreign: &mut BTreeSet<String>,
) -> Result<(NewSubscriber, Given), String> {
    let email = SubscriberEmail::parse(email)?;
    let attrs: Map<String, Value> = match attributes {
        "" => Map::new(),
        text => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("`attributes` must be a JSON object".into()),
            Err(e) => return Err(format!("`attributes` is not valid JSON: {e}")),
        },
    };
    foreign.extend(
        attrs
            .keys()
            .filter(|k| !OUR_KEYS.contains(&k.as_str()))
            .cloned(),
    );
    let text = |key: &str| -> Result<Option<String>, String> {
        match attrs.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!("attribute `{key}`: expected text, got {other}")),
        }
    };
    let topics = match attrs.get("topics") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        // An array of items: each one a term, quoted when it is a phrase.
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) if s.contains(' ') && !s.contains([':', '"']) => {
                        Ok(format!("\"{s}\""))
                    }
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!("attribute `topics`: {other} is not text")),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(", "),
        ),
        Some(other) => return Err(format!("attribute `topics`: expected text, got {other}")),
    };
    let status = match text("status")? {
        Some(s) => Some(s.parse::<SubscriberStatus>()?),
        // listmonk's own column: blocklisted means the reader must get nothing.
        None => match listmonk_status.to_ascii_lowercase().as_str() {
            "blocklisted" => Some(SubscriberStatus::Unsubscribed),
            _ => None,
        },
    };
    let frequency = text("frequency")?;
    let timezone = text("timezone")?.filter(|t| !t.trim().is_empty());
    let send_hour = match text("send_hour")? {
        None => None,
        Some(h) => match h.trim().parse::<u8>() {
            Ok(n) if n <= 23 => Some(n),
            _ => {
                return Err(format!(
                    "attribute `send_hour`: `{h}` is not an hour (0-23)"
                ));
            }
        },
    };
    let given = Given {
        name: !name.is_empty(),
        topics: topics.is_some(),
        status: status.is_some(),
        frequency: frequency.is_some(),
        timezone: attrs.contains_key("timezone"),
        send_hour: attrs.contains_key("send_hour"),
    };
    let new = NewSubscriber {
        email,
        name: DisplayName::parse_optional(name).map_err(|e| e.to_string())?,
        status: status.unwrap_or(SubscriberStatus::Active),
        topics: Topics::parse(topics.as_deref().unwrap_or("")).map_err(|e| e.to_string())?,
        frequency: frequency.as_deref().unwrap_or("").parse::<Frequency>()?,
        timezone: timezone
            .map(|t| super::subscribers::parse_tz(&t))
            .transpose()?,
        send_hour,
    };
    Ok((new, given))
}

/// Every subscriber as a listmonk CSV.
pub(super) fn export(store: &Store, w: &mut dyn Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(w);
    writer.write_record(["email", "name", "attributes"])?;
    for s in store.subscribers(None)? {
        let mut attrs = Map::new();
        attrs.insert("topics".into(), Value::String(s.topics.to_string()));
        attrs.insert("frequency".into(), Value::String(s.frequency.to_string()));
        attrs.insert("status".into(), Value::String(s.status.to_string()));
        if let Some(tz) = s.timezone {
            attrs.insert("timezone".into(), Value::String(tz.name().to_string()));
        }
        if let Some(h) = s.send_hour {
            attrs.insert("send_hour".into(), Value::from(h));
        }
        writer.write_record([
            s.email.to_string(),
            s.name
                .as_ref()
                .map(StoredName::raw)
                .unwrap_or_default()
                .to_string(),
            Value::Object(attrs).to_string(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_carry_paperposts_fields_and_bad_ones_say_what_is_wrong() {
        let mut foreign = BTreeSet::new();
        let (new, given) = row(
            "ada@example.org",
            "Ada",
            r#"{"topics": ["diffusion model", "cat:cs.CV"], "frequency": "daily",
                "send_hour": 9, "city": "London"}"#,
            "enabled",
            &mut foreign,
        )
        .unwrap();
        assert_eq!(new.topics.to_string(), "\"diffusion model\", cat:cs.CV");
        assert_eq!((new.frequency, new.send_hour), (Frequency::Daily, Some(9)));
        assert!(given.topics && given.send_hour && !given.status && !given.timezone);
        assert_eq!(foreign.into_iter().collect::<Vec<_>>(), ["city"]);
        let cases = [
            ("[1]", "JSON object"),
            ("{", "not valid JSON"),
            (r#"{"send_hour": 24}"#, "not an hour"),
            (r#"{"frequency": "hourly"}"#, "hourly"),
            (r#"{"timezone": "Mars/Olympus"}"#, "Mars/Olympus"),
            (r#"{"topics": {"a": 1}}"#, "topics"),
        ];
        for (attrs, expected) in cases {
            let err = row("a@example.org", "", attrs, "", &mut BTreeSet::new()).unwrap_err();
            assert!(err.contains(expected), "{attrs}: {err}");
        }
        let (blocked, _) =
            row("b@example.org", "", "", "blocklisted", &mut BTreeSet::new()).unwrap();
        assert_eq!(blocked.status, SubscriberStatus::Unsubscribed);
    }
}
