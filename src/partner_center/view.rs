//! What every page template shares: the signed-in shell, time formatting, field errors.
//! (Asset URLs come from `web::assets`, called by `templates/base.html`.)

use super::session::PartnerSession;

/// The frame around signed-in pages: who is signed in, navigation, the sign-out form.
pub struct Shell {
    pub app_name: String,
    pub app_id: String,
    pub csrf: String,
    /// Which navigation entry is current: "overview", "idm", "branding", "events".
    pub active: &'static str,
}

impl Shell {
    pub fn new(session: &PartnerSession, active: &'static str) -> Self {
        Self {
            app_name: session.app_name.clone(),
            app_id: session.app_id.to_string(),
            csrf: session.csrf.clone(),
            active,
        }
    }

    /// `aria-current` for a navigation entry.
    pub fn current(&self, entry: &str) -> &'static str {
        if self.active == entry { "page" } else { "false" }
    }
}

/// A Unix time as "2026-11-22 14:03 UTC".
pub fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown time".to_owned())
}

/// A Unix time relative to `now`: "just now", "5 minutes ago", "3 days ago".
pub fn ago(unix: i64, now: i64) -> String {
    let seconds = (now - unix).max(0);
    let (n, unit) = match seconds {
        0..60 => return "just now".to_owned(),
        60..3600 => (seconds / 60, "minute"),
        3600..86400 => (seconds / 3600, "hour"),
        _ => (seconds / 86400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Field name → message, from a service's validation errors, for inline display.
#[derive(Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn from_service(errors: &[crate::domain::field_error::FieldError]) -> Self {
        Self(errors.iter().map(|e| (e.target.first().cloned().unwrap_or_default(), sentence(&e.message))).collect())
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
    fn times() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(ago(100, 130), "just now");
        assert_eq!(ago(0, 60), "1 minute ago");
        assert_eq!(ago(0, 7200), "2 hours ago");
        assert_eq!(ago(0, 86400 * 3), "3 days ago");
    }
}
