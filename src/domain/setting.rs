//! A setting a stage refuses, in the stage's own terms: `config` turns it into an error
//! naming the file, the full key and its line.

/// What is wrong with one key of a `config.toml` section (`index`: which `[[section]]`
/// table, for a list of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSetting {
    pub section: &'static str,
    pub index: Option<usize>,
    pub key: &'static str,
    pub message: String,
}

impl BadSetting {
    pub fn new(section: &'static str, key: &'static str, message: impl Into<String>) -> Self {
        BadSetting {
            section,
            index: None,
            key,
            message: message.into(),
        }
    }

    /// About the `index`-th `[[section]]` table.
    pub fn at(
        section: &'static str,
        index: usize,
        key: &'static str,
        message: impl Into<String>,
    ) -> Self {
        BadSetting {
            index: Some(index),
            ..BadSetting::new(section, key, message)
        }
    }
}

/// `Ok` when `value` is in `lo..=hi`, else the usual message.
pub fn in_range(
    section: &'static str,
    key: &'static str,
    value: u64,
    lo: u64,
    hi: u64,
) -> Result<(), BadSetting> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(BadSetting::new(
            section,
            key,
            format!("must be between {lo} and {hi} (it is {value})"),
        ))
    }
}
