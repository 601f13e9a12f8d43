//! A real Prometheus server (Debian package `prometheus`) scraping one target every second, for
//! the tests that check what Prometheus makes of `/metrics`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A Prometheus process, killed on drop; its temporary directory (config and TSDB) goes with it.
pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts a server on a free loopback port scraping `target` every second, and waits until
    /// its API answers. `None`, with the skip reported ([`super::skip`]), when it is not
    /// installed.
    pub fn start(target: SocketAddr) -> Option<Prometheus> {
        let dir = tempfile::Builder::new()
            .prefix("hypermesh-prometheus-")
            .tempdir()
            .expect("a temporary directory");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: hypermesh\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("writing prometheus.yml");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = match Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                super::skip("prometheus not installed (Debian package prometheus)");
                return None;
            }
            Err(e) => panic!("starting prometheus: {e}"),
        };
        let prometheus = Prometheus { child, addr, _dir: dir };
        prometheus.wait_for("vector(1)", Duration::from_secs(60));
        Some(prometheus)
    }

    /// The result of an instant query (`data.result`: a vector's series, a scalar's value), or
    /// Prometheus's error.
    pub fn query(&self, expr: &str) -> Result<serde_json::Value, String> {
        let body = self.get(&format!("/api/v1/query?query={}", percent_encode(expr)))?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if json["status"] != "success" {
            return Err(format!("{}: {}", json["errorType"], json["error"]));
        }
        Ok(json["data"]["result"].clone())
    }

    /// The value of an instant query's first series, once Prometheus has one.
    pub fn value(&self, expr: &str) -> Option<f64> {
        self.query(expr).ok()?[0]["value"][1].as_str()?.parse().ok()
    }

    /// Names of every metric Prometheus has stored (`/api/v1/label/__name__/values`).
    pub fn metric_names(&self) -> Result<Vec<String>, String> {
        let body = self.get("/api/v1/label/__name__/values")?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        let names = json["data"].as_array().ok_or_else(|| format!("no names: {body}"))?;
        Ok(names.iter().filter_map(|n| n.as_str().map(String::from)).collect())
    }

    /// Waits until `expr` has a value; panics after `limit`.
    pub fn wait_for(&self, expr: &str, limit: Duration) {
        let start = Instant::now();
        while self.value(expr).is_none() {
            assert!(start.elapsed() < limit, "Prometheus had no value for {expr} within {limit:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The body of a GET (HTTP/1.0: the reply ends when the connection closes, never chunked).
    fn get(&self, path: &str) -> Result<String, String> {
        let mut stream = TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        stream.set_read_timeout(Some(Duration::from_secs(20))).map_err(|e| e.to_string())?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).map_err(|e| e.to_string())?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).map_err(|e| e.to_string())?;
        let (_, body) = reply.split_once("\r\n\r\n").ok_or_else(|| format!("not HTTP: {reply}"))?;
        Ok(body.to_string())
    }
}

/// `text` for a URL's query string: every byte but the unreserved ones as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(super::percent_encode(r#"rate(a{b="c"}[5s])"#), "rate%28a%7Bb%3D%22c%22%7D%5B5s%5D%29");
    }
}
