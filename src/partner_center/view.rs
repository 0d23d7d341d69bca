//! What every Partner Center page template shares: the signed-in shell, relative times.
//! (Asset URLs come from `web::assets`; dates and field errors from `web::view`.)

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(ago(100, 130), "just now");
        assert_eq!(ago(0, 60), "1 minute ago");
        assert_eq!(ago(0, 7200), "2 hours ago");
        assert_eq!(ago(0, 86400 * 3), "3 days ago");
    }
}
