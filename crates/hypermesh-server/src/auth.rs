//! HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it.
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), so a verification runs on the
//! blocking pool, never on the runtime thread, and successful (user, password) pairs are
//! remembered in a small bounded cache, so a scraper that sends the same credentials every 15 s
//! pays the cost once. Unknown users are checked against another user's hash so that the response time
//! does not tell which user names exist.

use base64::Engine;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

/// Most remembered successful logins; the cache is cleared when full.
const CACHE_ENTRIES: usize = 64;

/// Users allowed in, and the logins already verified.
#[derive(Debug)]
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    verified: Mutex<HashSet<(String, String)>>,
}

impl BasicAuth {
    /// Users and their bcrypt hashes (validated by [`crate::config::WebConfig`]).
    pub fn new(users: BTreeMap<String, String>) -> Self {
        BasicAuth { users, verified: Mutex::new(HashSet::new()) }
    }

    /// True when an `Authorization` header value names a user with the right password.
    pub async fn check(self: &Arc<Self>, authorization: Option<&[u8]>) -> bool {
        let Some((user, password)) = authorization.and_then(parse_basic) else { return false };
        let key = (user, password);
        if self.verified.lock().is_ok_and(|v| v.contains(&key)) {
            return true;
        }
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let known = this.users.get(&key.0);
            let Some(hash) = known.or_else(|| this.users.values().next()) else { return false };
            let ok = bcrypt::verify(&key.1, hash).unwrap_or(false) && known.is_some();
            if ok && let Ok(mut verified) = this.verified.lock() {
                if verified.len() >= CACHE_ENTRIES {
                    verified.clear();
                }
                verified.insert(key);
            }
            ok
        })
        .await
        .unwrap_or(false)
    }
}

/// `Basic base64(user:password)` → (user, password).
fn parse_basic(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_header() {
        // "alice:s3cret:with:colons"
        let h = b"Basic YWxpY2U6czNjcmV0OndpdGg6Y29sb25z";
        assert_eq!(parse_basic(h), Some(("alice".into(), "s3cret:with:colons".into())));
        assert_eq!(parse_basic(b"basic YWxpY2U6eA=="), Some(("alice".into(), "x".into())));
        assert_eq!(parse_basic(b"Bearer abc"), None);
        assert_eq!(parse_basic(b"Basic !!!"), None);
        assert_eq!(parse_basic(b"Basic YWxpY2U="), None, "no colon");
        assert_eq!(parse_basic(&[0xff, 0xfe]), None);
    }

    #[tokio::test]
    async fn checks_password_and_caches_success() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let auth = Arc::new(BasicAuth::new(BTreeMap::from([("alice".to_string(), hash)])));
        let header = |u: &str, p: &str| {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
        };
        assert!(!auth.check(None).await);
        assert!(!auth.check(Some(header("alice", "nope").as_bytes())).await);
        assert!(!auth.check(Some(header("bob", "pw").as_bytes())).await);
        assert!(auth.check(Some(header("alice", "pw").as_bytes())).await);
        assert_eq!(auth.verified.lock().unwrap().len(), 1);
        assert!(auth.check(Some(header("alice", "pw").as_bytes())).await);
    }
}
