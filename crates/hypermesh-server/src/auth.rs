//! HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it.
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10, doubling with each step), so:
//! - a verification runs on the blocking pool, never on the runtime thread, and at most
//!   `workers` run at once (a semaphore; waiting requests queue in order): a wrong-password
//!   flood costs at most that many cores and threads, whatever the number of clients;
//! - successful logins are remembered by an HMAC of (user, password) under a key drawn at
//!   start (never the password itself), so a scraper that sends the same credentials every
//!   15 s pays bcrypt once; failures are never remembered;
//! - once the server stops ([`BasicAuth::stop`]), waiting and running checks answer
//!   [`Verdict::Stopping`] at once instead of holding the shutdown;
//! - hash costs above [`MAX_BCRYPT_COST`] are refused when the config is loaded.
//!
//! Unknown users are checked against another user's hash so that the response time does not
//! tell which user names exist.

use base64::Engine;
use ring::hmac;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, watch};

/// Highest bcrypt cost accepted in `basic_auth_users`. Each step doubles the work: on the
/// 2-vCPU VM this was written on a check takes 155 ms at cost 10, 0.63 s at 12, about 2.5 s at
/// 14, and would pin a core for days at 31. `htpasswd -B` uses 5 by default, exporter-toolkit's
/// docs 10.
pub const MAX_BCRYPT_COST: u32 = 14;

/// Most remembered successful logins; the cache is cleared when full.
const CACHE_ENTRIES: usize = 64;

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A known user with the right password.
    Allowed,
    /// No credentials, an unknown user or a wrong password.
    Denied,
    /// The server is stopping; the check was not finished.
    Stopping,
}

/// Users allowed in, and the logins already verified.
#[derive(Debug)]
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    key: hmac::Key,
    verified: Mutex<HashSet<Vec<u8>>>,
    workers: Arc<Semaphore>,
    stopping: watch::Sender<bool>,
}

impl BasicAuth {
    /// Users and their bcrypt hashes (validated by [`crate::config::WebConfig`]); at most
    /// `workers` (at least one) verifications at a time.
    pub fn new(users: BTreeMap<String, String>, workers: usize) -> Self {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
            .expect("the system random source works"); // getrandom; fails only without /dev/urandom
        BasicAuth {
            users,
            key,
            verified: Mutex::new(HashSet::new()),
            workers: Arc::new(Semaphore::new(workers.max(1))),
            stopping: watch::Sender::new(false),
        }
    }

    /// Checks an `Authorization` header value.
    pub async fn check(self: &Arc<Self>, authorization: Option<&[u8]>) -> Verdict {
        let Some((user, password)) = authorization.and_then(parse_basic) else { return Verdict::Denied };
        let tag = self.tag(&user, &password);
        if self.verified.lock().is_ok_and(|v| v.contains(&tag)) {
            return Verdict::Allowed;
        }
        let mut stopping = self.stopping.subscribe();
        tokio::select! {
            allowed = self.verify(user, password) => {
                if allowed && let Ok(mut verified) = self.verified.lock() {
                    if verified.len() >= CACHE_ENTRIES {
                        verified.clear();
                    }
                    verified.insert(tag);
                }
                if allowed { Verdict::Allowed } else { Verdict::Denied }
            }
            _ = stopping.wait_for(|stop| *stop) => Verdict::Stopping,
        }
    }

    /// Makes every waiting and later check answer [`Verdict::Stopping`] (verifications already
    /// running finish on their thread, unobserved).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Verifies on the blocking pool, within the workers' bound.
    async fn verify(self: &Arc<Self>, user: String, password: String) -> bool {
        let Ok(permit) = Arc::clone(&self.workers).acquire_owned().await else { return false };
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // The permit lives as long as the computation, even when nobody awaits it any more.
            let _permit = permit;
            let known = this.users.get(&user);
            let Some(hash) = known.or_else(|| this.users.values().next()) else { return false };
            bcrypt::verify(&password, hash).unwrap_or(false) && known.is_some()
        })
        .await
        .unwrap_or(false)
    }

    /// The cache key of a login: HMAC-SHA256 over the user's length, the user and the password.
    fn tag(&self, user: &str, password: &str) -> Vec<u8> {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(&(user.len() as u64).to_le_bytes());
        context.update(user.as_bytes());
        context.update(password.as_bytes());
        context.sign().as_ref().to_vec()
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
    use std::time::Duration;

    fn header(user: &str, password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
    }

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
    async fn checks_password_and_caches_only_success_and_never_the_password() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let auth = Arc::new(BasicAuth::new(BTreeMap::from([("alice".to_string(), hash)]), 2));
        assert_eq!(auth.check(None).await, Verdict::Denied);
        assert_eq!(auth.check(Some(header("alice", "nope").as_bytes())).await, Verdict::Denied);
        assert_eq!(auth.check(Some(header("bob", "pw").as_bytes())).await, Verdict::Denied);
        assert!(auth.verified.lock().unwrap().is_empty(), "failures are not remembered");
        assert_eq!(auth.check(Some(header("alice", "pw").as_bytes())).await, Verdict::Allowed);
        let cached = auth.verified.lock().unwrap().clone();
        assert_eq!(cached.len(), 1);
        assert!(cached.iter().all(|tag| tag.len() == 32 && !tag.windows(2).any(|w| w == b"pw")));
        assert_eq!(auth.check(Some(header("alice", "pw").as_bytes())).await, Verdict::Allowed);
        // The tag binds user and password apart: "alic" + "epw" is another login.
        assert_ne!(auth.tag("alice", "pw"), auth.tag("alic", "epw"));
        assert_eq!(auth.check(Some(header("alice", "pw2").as_bytes())).await, Verdict::Denied);
    }

    #[tokio::test]
    async fn stop_ends_waiting_checks_at_once() {
        // Cost 12 (password "s3cret"): most of a second per check, so that checks queue behind
        // the one worker.
        let hash = "$2b$12$jOiHtgPidi2SdGcJoxgwfu8KGfmNRY0hM.kXgtX64dH/Yy4VHzgL.".to_string();
        let auth = Arc::new(BasicAuth::new(BTreeMap::from([("alice".to_string(), hash)]), 1));
        let checks: Vec<_> = (0..4)
            .map(|i| {
                let auth = Arc::clone(&auth);
                tokio::spawn(async move {
                    auth.check(Some(header("alice", &format!("wrong{i}")).as_bytes())).await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let start = std::time::Instant::now();
        auth.stop();
        for check in checks {
            assert_eq!(check.await.unwrap(), Verdict::Stopping);
        }
        assert!(start.elapsed() < Duration::from_millis(500), "{:?}", start.elapsed());
        assert_eq!(auth.check(Some(header("alice", "s3cret").as_bytes())).await, Verdict::Stopping);
    }
}
