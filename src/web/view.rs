//! What server-rendered pages of every surface share: dates and inline field errors.

/// A Unix time as "2026-11-22 14:03 UTC".
pub fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown time".to_owned())
}

/// Field name → message, from a service's validation errors, for inline display.
#[derive(Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// A nested target names its form field by its first two parts (`claims`, `email` →
    /// `claims_email`); a list index stays with its list (`required_claims`, `0`).
    pub fn from_service(errors: &[crate::domain::field_error::FieldError]) -> Self {
        let field = |target: &[String]| match target {
            [list, index, ..] if index.bytes().all(|b| b.is_ascii_digit()) => list.clone(),
            [object, member, ..] => format!("{object}_{member}"),
            [one] => one.clone(),
            [] => String::new(),
        };
        Self(errors.iter().map(|e| (field(&e.target), sentence(&e.message))).collect())
    }

    /// The fields with errors, in form order, for the summary's links.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(f, _)| f.as_str())
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn any(&self, fields: &[&str]) -> bool {
        fields.iter().any(|f| self.get(f).is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A service message ("must use https") as a sentence next to a field ("Must use https.").
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.is_empty() && !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(sentence("must use https"), "Must use https.");
        assert_eq!(sentence("must be a colour as #RRGGBB, such as #1A73E8"), "Must be a colour as #RRGGBB, such as #1A73E8.");
        assert_eq!(sentence("Already fine."), "Already fine.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn dates() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
    }
}
