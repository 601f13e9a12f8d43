//! Helpers shared by the server tests: a server on a random loopback port, a hand-built
//! profile, and a minimal HTTP/1.1 client over a plain socket (so that tests can also send
//! what a real client would not).

#![allow(dead_code)] // each test binary uses a different subset

use hypermesh_os::HostProfile;
use hypermesh_os::model::*;
use hypermesh_server::collector::Scraper;
use hypermesh_server::config::WebConfig;
use hypermesh_server::http::App;
use hypermesh_server::server::{Limits, Server};
use hypermesh_server::sources::{AssetsSource, Sources};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A server running on its own thread; stopped (gracefully) on drop.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts a server with every collector over `profile`, usage of the live host, and no
    /// asset view.
    pub fn start(profile: HostProfile, web: WebConfig, limits: Limits) -> Running {
        Running::with_sources(sources(profile, Err("no asset view in this test".into())), web, limits)
    }

    /// Starts a server with every collector over these sources.
    pub fn with_sources(sources: Arc<Sources>, web: WebConfig, limits: Limits) -> Running {
        let collectors = hypermesh_server::collectors::build(&[], &sources).unwrap();
        let app = App::new(Scraper::new(collectors), sources).unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let server = Server::bind("127.0.0.1:0".parse().unwrap(), app, &web, limits).await.unwrap();
                addr_tx.send(server.local_addr().unwrap()).unwrap();
                server
                    .run(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).expect("server started");
        Running { addr, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// Starts a plain HTTP server with default limits.
    pub fn plain(profile: HostProfile) -> Running {
        Running::start(profile, WebConfig::default(), Limits::default())
    }

    /// Stops the server and waits until it has returned.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sources over `profile`, the live host's usage counters, and `assets`.
pub fn sources(profile: HostProfile, assets: Result<AssetsSource, String>) -> Arc<Sources> {
    Arc::new(Sources::new(hypermesh_os::FsRoot::host(), Arc::new(profile), assets))
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes, reads until the server closes, parses the response.
pub fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(request)?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    parse(&bytes)
}

/// Parses an HTTP/1.1 response (no chunked bodies: the server sends Content-Length).
pub fn parse(bytes: &[u8]) -> std::io::Result<Response> {
    let text = String::from_utf8_lossy(bytes);
    let bad = || std::io::Error::other(format!("not an HTTP response: {:?}", &text[..text.len().min(200)]));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let mut lines = head.split("\r\n");
    let status =
        lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Response { status, headers, body: body.to_string() })
}

/// GET with extra header lines (each `Name: value`).
pub fn get_with(addr: SocketAddr, path: &str, headers: &[&str]) -> Response {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    raw(addr, request.as_bytes()).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Plain GET.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    get_with(addr, path, &[])
}

/// A two-socket host with caches, NUMA, NVMe, a GPU and odd characters in names.
pub fn sample_profile() -> HostProfile {
    HostProfile {
        backend: "linux".into(),
        platform: Some(Platform {
            os: "linux".into(),
            distro: Some("Debian GNU/Linux 12 (bookworm)".into()),
            distro_id: Some("debian".into()),
            kernel: Some("6.18.0".into()),
            arch: Some("x86_64".into()),
            hostname: Some("node-1".into()),
            boot_time: Some(1_764_000_000),
            virtualization: Some("kvm".into()),
            ..Default::default()
        }),
        cpu: Some(Cpu {
            vendor: Some("GenuineIntel".into()),
            model: Some("Intel(R) Xeon(R) \"Gold\" 6338\\ CPU\n@ 2.00GHz".into()),
            family: Some(6),
            model_id: Some(106),
            packages: 2,
            cores: 64,
            logical_cpus: 128,
            threads_per_core: 2,
            caches: vec![
                Cache {
                    level: 1,
                    kind: "data".into(),
                    size_bytes: Some(48 << 10),
                    instances: 64,
                    cpus: (0..128).collect(),
                    ..Default::default()
                },
                Cache {
                    level: 3,
                    kind: "unified".into(),
                    size_bytes: Some(48 << 20),
                    instances: 2,
                    cpus: (0..128).collect(),
                    ..Default::default()
                },
            ],
            kinds: vec![CoreKind {
                name: "uniform".into(),
                cpus: (0..128).collect(),
                cores: 64,
                max_frequency_khz: Some(3_200_000),
                ..Default::default()
            }],
            frequency: Some(FrequencyRange {
                min_khz: Some(800_000),
                max_khz: Some(3_200_000),
                base_khz: None,
            }),
            ..Default::default()
        }),
        numa: Some(Numa {
            nodes: (0..2)
                .map(|id| NumaNode {
                    id,
                    cpus: (id * 64..id * 64 + 64).collect(),
                    memory_total_bytes: Some(128 << 30),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        memory: Some(Memory {
            total_bytes: 270_000_000_000,
            swap_total_bytes: Some(0),
            hugepages: vec![HugePages { page_size_bytes: 2 << 20, total: 512, free: 512 }],
            ..Default::default()
        }),
        storage: Some(Storage {
            block_devices: vec![BlockDevice {
                name: "nvme0n1".into(),
                kind: DiskKind::Nvme,
                size_bytes: Some(3_840_755_982_336),
                logical_block_bytes: Some(512),
                physical_block_bytes: Some(4096),
                model: Some("SAMSUNG MZQL23T8HCLS-00A07".into()),
                ..Default::default()
            }],
            filesystems: vec![Filesystem {
                device: "/dev/nvme0n1p2".into(),
                mount_point: "/".into(),
                fs_type: "ext4".into(),
                options: vec!["rw".into(), "relatime".into()],
                total_bytes: Some(3_700_000_000_000),
                inodes_total: Some(230_000_000),
                ..Default::default()
            }],
            ..Default::default()
        }),
        network: Some(Network {
            interfaces: vec![Interface {
                name: "eth0".into(),
                mac: Some("02:00:00:00:00:01".into()),
                mtu: Some(9000),
                speed_mbps: Some(25_000),
                kind: Some("ethernet".into()),
                driver: Some("mlx5_core".into()),
                ..Default::default()
            }],
        }),
        gpus: vec![Gpu {
            pci_address: "0000:17:00.0".into(),
            vendor: Some("NVIDIA Corporation".into()),
            model: Some("NVIDIA H100 80GB HBM3".into()),
            kind: Some(GpuKind::Discrete),
            driver: Some("nvidia".into()),
            memory_total_bytes: Some(85_520_809_984),
            memory_used_bytes: Some(1 << 30),
            utilization_percent: Some(3.0),
            temperature_celsius: Some(40.0),
            uuid: None,
            ..Default::default()
        }],
        errors: vec![],
    }
}

/// The live host's profile.
pub fn live_profile() -> HostProfile {
    let backend = hypermesh_os::linux::LinuxBackend::new(hypermesh_os::FsRoot::host());
    hypermesh_os::detect(&backend, &[])
}

/// Path of a program on PATH, if any.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// Resident set size of this process in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

pub mod flood;

/// A self-signed certificate for `localhost` and its key, as server.crt and server.key in `dir`.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub cert_pem: String,
}

pub fn self_signed() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.pem()).unwrap();
    let key_path = dir.path().join("server.key");
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key_path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Pki { dir, cert_pem: cert.pem() }
}

impl Pki {
    /// A web config serving this certificate.
    pub fn web_config(&self) -> WebConfig {
        let path = self.dir.path().join("web.yml");
        std::fs::write(&path, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
            .unwrap();
        WebConfig::load(&path).unwrap()
    }

    /// A TLS client configuration that trusts this certificate (and nothing else).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).unwrap()).unwrap();
        let config =
            rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        Arc::new(config)
    }

    /// `GET path` over TLS, trusting this certificate: the status and the time from connect to
    /// the last byte.
    pub fn timed_get(&self, addr: SocketAddr, path: &str) -> std::io::Result<(u16, Duration)> {
        use rustls::pki_types::ServerName;
        let start = std::time::Instant::now();
        let name = ServerName::try_from("localhost").unwrap();
        let client =
            rustls::ClientConnection::new(self.client_config(), name).map_err(std::io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(client, flood::connect(addr)?);
        let status = flood::exchange(&mut tls, path, &[])?;
        Ok((status, start.elapsed()))
    }
}

/// Asserts that `promtool check metrics` finds nothing to say about `body` (skips, with the
/// reason, where promtool is not installed).
pub fn promtool_check_metrics(body: &str) {
    use std::io::Write;
    let Some(promtool) = which("promtool") else {
        return hypermesh_testkit::skip("promtool not installed (Debian package prometheus)");
    };
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "promtool check metrics:\n{report}\n{body}");
}
